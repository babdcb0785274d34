package dev.jlens.api;

import dev.jlens.isolated.IsolatedCapture;
import dev.jlens.isolated.IsolatedCommand;
import dev.jlens.isolated.IsolatedWorkerCrashedException;
import dev.jlens.llama.Backends;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.activations.CaptureFolders;
import dev.jlens.activations.CaptureJob;
import dev.jlens.activations.ShardMeta;
import dev.jlens.formats.DType;
import dev.jlens.formats.FormatException;
import dev.jlens.formats.Npy;
import dev.jlens.formats.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * A "capture folder": the residual stream after one layer for a list of prompts, written to disk for numpy or for
 * {@link CodesFolder} and {@link Experiment#contrast} / {@link Experiment#crossmap}. The folder holds
 * {@code activations.npy} (float32 {@code [total_tokens x d_model]}, rows in prompt then position order, BOS rows
 * included), {@code tokens.csv} ({@code prompt,position,token_id,text}) and {@code capture.json} (model, layer, hook
 * name, BOS token id, llama.cpp commit, and the numerics: K/V cache type, flash attention, the file's weight types). Memory stays bounded by one batch; the files appear atomically at the end.
 * In tokens.csv a token's text has its control characters escaped ({@code \\}, {@code \n}, {@code \r}, {@code \t}, and
 * {@code \}{@code u00XX} for the others, e.g. NUL), so every row is one line and no raw control byte is written.
 * capture.json (snake_case keys after {@code "format": "jlens-capture/2"}; docs/outputs.md) names the model file by its
 * absolute path and its SHA-256 ({@code model_sha256}), and says whether the model prepended BOS ({@code bos_prepended}:
 * then row 0 of each prompt, and only that row, is BOS). {@link #read} reads a folder back; a capture.json of an older
 * jlens (camelCase keys, no format field) is refused naming the file and "format".
 *
 * <p>Threads: {@link #write} loads its own model and context and may run on any thread; two writes to the same
 * folder at the same time are not supported.
 */
public final class CaptureFolder {
    private CaptureFolder() {}

    /**
     * How to capture; validated on construction (IllegalArgumentException naming the value).
     *
     * @param contextTokens   context size in tokens: the most tokens per batch; a prompt longer than this is rejected
     * @param ubatchTokens    tokens per compute step (llama.cpp's n_ubatch), capped at {@code contextTokens}
     * @param promptsPerBatch the most prompts (sequences) per batch, capped at {@code contextTokens}
     * @param threads         CPU threads, >= 1
     * @param gpuLayers       llama.cpp's {@code n_gpu_layers}: layers to offload to a GPU backend, 0 for none (it offloads
     *                        the <em>last</em> layers, which an early-exit capture never runs: prefer {@code gpuCapture})
     * @param gpuCapture      put exactly blocks 0..layer on the GPU (see {@link LensModel#loadForGpuCapture}); needs a
     *                        llama.cpp build with a GPU device, else the write fails with IllegalArgumentException
     * @param isolated        run llama.cpp in a worker process, so a native abort on an untrusted model file fails the
     *                        write with IllegalArgumentException naming the model instead of ending this JVM (no progress is reported; not with
     *                        {@code gpuCapture} or {@code fastKv})
     * @param fastKv          llama.cpp's f16 K/V cache ({@code --fast-kv}): half the cache memory, ~2e-3 instead of ~4e-5
     *                        row error at layer 12 against an f32 forward pass; false (the default) keeps K/V in f32 with
     *                        flash attention off
     */
    public record Options(int contextTokens, int ubatchTokens, int promptsPerBatch, int threads, int gpuLayers, boolean gpuCapture,
                          boolean isolated, boolean fastKv) {
        /** Validates the options with the capture context's own rules. */
        public Options {
            contextParams(contextTokens, ubatchTokens, promptsPerBatch, threads, fastKv); // the context's own checks
        }

        /**
         * Options with the default numerics (f32 K/V cache).
         *
         * @param contextTokens   context size in tokens, &gt;= 1: the most tokens per batch
         * @param ubatchTokens    tokens per compute step, &gt;= 1 (capped at {@code contextTokens})
         * @param promptsPerBatch the most prompts per batch, in [1, 256] (capped at {@code contextTokens})
         * @param threads         CPU threads, in [1, 512]
         * @param gpuLayers       llama.cpp's {@code n_gpu_layers}, 0 for none
         * @param gpuCapture      put exactly blocks 0..layer on the GPU
         * @param isolated        run llama.cpp in a worker process
         * @throws IllegalArgumentException naming the value that is out of range
         */
        public Options(int contextTokens, int ubatchTokens, int promptsPerBatch, int threads, int gpuLayers, boolean gpuCapture,
                       boolean isolated) {
            this(contextTokens, ubatchTokens, promptsPerBatch, threads, gpuLayers, gpuCapture, isolated, false);
        }

        /**
         * The options {@code jlens capture} uses without flags.
         *
         * @return 2048-token context, 512-token steps, 64 prompts per batch, one thread per available processor, CPU
         *         only, in this process, f32 K/V cache
         */
        public static Options defaults() {
            return new Options(2048, 512, 64, Runtime.getRuntime().availableProcessors(), 0, false, false, false);
        }

        /**
         * A copy with {@link #contextTokens()} replaced.
         *
         * @param n the context size in tokens, &gt;= 1; the step and batch sizes are capped at it
         * @return the new options
         * @throws IllegalArgumentException when {@code n} &lt; 1
         */
        public Options withContextTokens(int n) { return new Options(n, ubatchTokens, promptsPerBatch, threads, gpuLayers, gpuCapture, isolated, fastKv); }

        /**
         * A copy with {@link #ubatchTokens()} replaced.
         *
         * @param n tokens per compute step, &gt;= 1 (capped at {@link #contextTokens()})
         * @return the new options
         * @throws IllegalArgumentException when {@code n} &lt; 1
         */
        public Options withUbatchTokens(int n) { return new Options(contextTokens, n, promptsPerBatch, threads, gpuLayers, gpuCapture, isolated, fastKv); }

        /**
         * A copy with {@link #promptsPerBatch()} replaced.
         *
         * @param n the most prompts per batch, in [1, 256] (capped at {@link #contextTokens()})
         * @return the new options
         * @throws IllegalArgumentException when {@code n} is outside [1, 256]
         */
        public Options withPromptsPerBatch(int n) { return new Options(contextTokens, ubatchTokens, n, threads, gpuLayers, gpuCapture, isolated, fastKv); }

        /**
         * A copy with {@link #threads()} replaced.
         *
         * @param n CPU threads, in [1, 512] (ggml's limit)
         * @return the new options
         * @throws IllegalArgumentException when {@code n} is outside [1, 512]
         */
        public Options withThreads(int n) { return new Options(contextTokens, ubatchTokens, promptsPerBatch, n, gpuLayers, gpuCapture, isolated, fastKv); }

        /**
         * A copy with {@link #gpuLayers()} replaced.
         *
         * @param n layers llama.cpp offloads to a GPU backend ({@code n_gpu_layers}: the last ones), 0 for none
         * @return the new options
         */
        public Options withGpuLayers(int n) { return new Options(contextTokens, ubatchTokens, promptsPerBatch, threads, n, gpuCapture, isolated, fastKv); }

        /**
         * A copy with {@link #gpuCapture()} replaced.
         *
         * @param b true to put exactly blocks 0..layer on the GPU (the write then needs a GPU device)
         * @return the new options
         */
        public Options withGpuCapture(boolean b) { return new Options(contextTokens, ubatchTokens, promptsPerBatch, threads, gpuLayers, b, isolated, fastKv); }

        /**
         * A copy with {@link #isolated()} replaced.
         *
         * @param b true to run llama.cpp in a worker process (the write then refuses {@code gpuCapture} and
         *          {@code fastKv})
         * @return the new options
         */
        public Options withIsolated(boolean b) { return new Options(contextTokens, ubatchTokens, promptsPerBatch, threads, gpuLayers, gpuCapture, b, fastKv); }

        /**
         * A copy with {@link #fastKv()} replaced.
         *
         * @param b true for llama.cpp's f16 K/V cache, false for the f32 cache of the reference numerics
         * @return the new options
         */
        public Options withFastKv(boolean b) { return new Options(contextTokens, ubatchTokens, promptsPerBatch, threads, gpuLayers, gpuCapture, isolated, b); }

        Context.Params params() { return contextParams(contextTokens, ubatchTokens, promptsPerBatch, threads, fastKv); }

        private static Context.Params contextParams(int ctx, int ubatch, int seqs, int threads, boolean fastKv) {
            return Context.Params.defaults().withCtx(ctx).withUbatch(Math.min(ubatch, ctx)).withSeqMax(Math.min(seqs, ctx)).withThreads(threads)
                    .withFastKv(fastKv);
        }
    }

    /**
     * What a write produced.
     *
     * @param activations {@code activations.npy}, float32 {@code [rows x dModel]}
     * @param tokens      {@code tokens.csv}, one line per row
     * @param rows        total tokens of all prompts, BOS included
     * @param dModel      residual stream width
     * @param layer       the layer captured
     * @param seconds     wall time of the write
     */
    public record Result(Path activations, Path tokens, long rows, int dModel, int layer, double seconds) {}

    /**
     * Reads a capture folder back (written by {@link #write} or `jlens capture`): its rows with their prompt, position
     * and token, the layer from capture.json, and BOS rows as the capture marked them ({@link LayerActivations#isBos}).
     * The activations are mapped from activations.npy, not copied; close the result to unmap them. A missing folder or
     * file, a malformed capture.json or tokens.csv, or an activations.npy whose shape or dtype does not match, throws an
     * exception for which {@link Failures#isBadInput} is true, naming the file.
     *
     * @param dir a capture folder ({@code capture.json}, {@code tokens.csv}, {@code activations.npy})
     * @return its rows, prompt indices counted from 0 in the folder's prompt order; the caller closes them
     * @throws IOException when a file is missing ({@link java.nio.file.NoSuchFileException}), malformed or inconsistent
     *                     with the others ({@link dev.jlens.errors.InvalidFileException}), or cannot be read
     * @throws NullPointerException when {@code dir} is null
     */
    public static LayerActivations read(Path dir) throws IOException {
        Objects.requireNonNull(dir, "dir");
        CaptureFolders.Contents c = CaptureFolders.read(dir);
        ShardMeta m = c.meta();
        int rows = Math.toIntExact(m.rows());
        int[] prompt = new int[rows], position = new int[rows], token = new int[rows];
        int r = 0;
        for (int p = 0; p < m.tokens().size(); p++) {
            int[] t = m.tokens().get(p);
            for (int k = 0; k < t.length; k++, r++) {
                prompt[r] = p;
                position[r] = k;
                token[r] = t[k];
            }
        }
        Arena arena = Arena.ofShared();
        try {
            Tensor t = Npy.read(c.activations(), arena);
            if (t.dtype() != DType.F32) throw new FormatException(c.activations(), "descr", "expected float32 activations, got " + t.dtype());
            return LayerActivations.of(arena, t.data(), rows, m.nEmbd(), c.layer(), c.bosRowsToken(), prompt, position, token);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Captures {@code layer}'s output ({@code l_out-layer} = {@code blocks.layer.hook_resid_post}) for every prompt of
     * {@code prompts} (BOS prepended; non-blank) with the model in {@code model}, and writes the folder {@code outDir}
     * (created if missing). Bad input (a missing or invalid model file, an empty prompt, a layer out of range, a prompt
     * longer than the context, no GPU for {@code gpuCapture}) throws IllegalArgumentException; {@code progress} (may
     * be null) counts captured rows.
     *
     * @param model    a gemma2 GGUF file
     * @param prompts  the prompt texts, at least one, none blank, each within {@link Options#contextTokens()} tokens
     *                 with its BOS (rejected, never truncated); {@link Prompts#load} reads a prompt file
     * @param layer    the 0-based layer whose output is captured, in [0, the model's layers)
     * @param outDir   the capture folder, created when missing; the files of an earlier capture there are replaced
     *                 together, and a failed capture leaves them as they were
     * @param options  context size, batching, threads, GPU use, isolation and K/V precision
     * @param progress stage {@code "capture"}, one unit per row (token), or null for none; not called when
     *                 {@link Options#isolated()}
     * @return the files written, the row count, d_model, the layer and the wall time
     * @throws IllegalArgumentException on bad input, as above, when another write holds {@code outDir}, and when
     *                                  llama.cpp crashes on the model in the {@link Options#isolated()} worker
     * @throws IOException when a file cannot be written, or the isolated worker fails or is killed from outside
     * @throws NullPointerException when {@code options} is null
     * @throws dev.jlens.errors.NativeException when llama.cpp fails in this process
     */
    public static Result write(Path model, List<String> prompts, int layer, Path outDir, Options options, ProgressListener progress)
            throws IOException {
        Objects.requireNonNull(options, "options");
        Context.Params p = options.params();
        if (options.gpuCapture() && Backends.gpus().isEmpty()) {
            throw new IllegalArgumentException("--gpu-capture needs a llama.cpp build with a GPU backend and a GPU (scripts/build-native.sh --cuda); this build has none");
        }
        CaptureJob.Result r;
        if (options.isolated()) {
            if (options.gpuCapture()) throw new IllegalArgumentException("--gpu-capture is not supported with --isolated");
            // the worker builds its context from the default numerics: refuse rather than silently capture in f32
            if (options.fastKv()) throw new IllegalArgumentException("--fast-kv is not supported with --isolated");
            try {
                r = IsolatedCapture.run(model, prompts, layer, outDir, p, options.gpuLayers(), IsolatedCapture.Options.defaults());
            } catch (IsolatedWorkerCrashedException e) {
                // a native fault on this model (not a kill from outside) is bad input, as for france/steer/contrast --isolated
                if (!IsolatedCommand.nativeFault(e.exitCode())) throw e;
                throw new IllegalArgumentException("model " + model + ": llama.cpp crashed on it in the isolated worker (nothing was written to "
                        + outDir + "): " + e.getMessage(), e);
            }
        } else {
            try (Model m = Model.load(model, options.gpuCapture() ? Model.Params.captureOnGpu(layer) : new Model.Params(options.gpuLayers(), true))) {
                r = CaptureJob.run(m, prompts, layer, outDir, p, Bridge.progress(progress));
            }
        }
        return new Result(r.activations(), r.tokens(), r.rows(), r.nEmbd(), r.layer(), r.seconds());
    }
}
