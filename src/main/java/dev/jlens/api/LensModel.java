package dev.jlens.api;

import dev.jlens.llama.Context;
import dev.jlens.llama.Model;

import java.nio.file.Path;

/**
 * A loaded gemma2 GGUF (validated in Java before llama.cpp sees it). Shareable across threads; create one
 * {@link LensSession} per thread. Close it after its sessions (closing it closes any still open).
 */
public final class LensModel implements AutoCloseable {
    private final Model model;

    private LensModel(Model model) { this.model = model; }

    /**
     * Loads a model on the CPU, memory-mapped. The file is checked in Java before llama.cpp sees it.
     *
     * @param gguf a gemma2 GGUF file
     * @return the loaded model; close it after its sessions
     * @throws IllegalArgumentException naming the file when it is missing or not a regular file, or
     *         ({@link dev.jlens.errors.InvalidModelFileException}) when it is not a valid gemma2 GGUF
     * @throws java.io.UncheckedIOException when the file cannot be read
     * @throws dev.jlens.errors.NativeException when the native libraries cannot be loaded or llama.cpp rejects the file
     */
    public static LensModel load(Path gguf) { return new LensModel(Model.load(gguf)); }

    /**
     * Loads a model, offloading layers to a GPU when the native build has a GPU backend.
     *
     * @param gguf      a gemma2 GGUF file
     * @param gpuLayers how many layers llama.cpp offloads (its {@code n_gpu_layers}: the last ones); 0 = CPU only,
     *                  -1 = all; ignored by a build without a GPU backend
     * @return the loaded model; close it after its sessions
     * @throws IllegalArgumentException as {@link #load(Path)}
     * @throws dev.jlens.errors.NativeException as {@link #load(Path)}
     */
    public static LensModel load(Path gguf, int gpuLayers) { return new LensModel(Model.load(gguf, new Model.Params(gpuLayers, true))); }

    /**
     * Loads a model for capturing {@code layer} on a GPU: blocks 0..layer go to the GPU, the blocks above and the
     * (tied) embedding/output matrix stay in CPU memory, since an early-exit capture never runs them. Needs a
     * llama.cpp build with a GPU backend (scripts/build-native.sh --cuda, pointed to by -Djlens.native.dir);
     * throws IllegalStateException when the loaded build has no GPU device. Activations differ from a CPU
     * capture by GPU rounding (about 1e-3 relative on an F32 model).
     *
     * @param gguf  a gemma2 GGUF file
     * @param layer the 0-based layer the sessions will capture; blocks above it are not offloaded
     * @return the loaded model; close it after its sessions
     * @throws IllegalArgumentException when {@code layer} is negative, or as {@link #load(Path)}
     * @throws IllegalStateException when the loaded llama.cpp build has no GPU device
     */
    public static LensModel loadForGpuCapture(Path gguf, int layer) {
        if (layer < 0) throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        if (!hasGpu()) throw new IllegalStateException("the loaded llama.cpp build has no GPU device (build with scripts/build-native.sh --cuda)");
        return new LensModel(Model.load(gguf, Model.Params.captureOnGpu(layer)));
    }

    /**
     * Whether the loaded llama.cpp build registered a GPU device (loads the native libraries if needed).
     *
     * @return true when {@link #loadForGpuCapture} can be used
     */
    public static boolean hasGpu() { return !dev.jlens.llama.Backends.gpus().isEmpty(); }

    /**
     * The residual stream width.
     *
     * @return d_model ({@code n_embd}), 2304 for Gemma 2 2B; the length of a captured row and of a steering vector
     */
    public int dModel() { return model.nEmbd(); }

    /**
     * The number of transformer blocks.
     *
     * @return {@code n_layer}, 26 for Gemma 2 2B; layers are numbered 0..layers()-1
     */
    public int layers() { return model.nLayer(); }

    /**
     * The architecture the file declares.
     *
     * @return its {@code general.architecture} key, {@code gemma2} for every model that loads
     */
    public String architecture() { return model.architecture(); }

    /**
     * The file loaded.
     *
     * @return the path as given to {@code load}
     */
    public Path path() { return model.path(); }

    /**
     * Tokenizes a prompt the way capture and generation do.
     *
     * @param text the prompt; special-token text such as {@code <bos>} is tokenized as plain text, not parsed
     * @return its token ids, with the BOS id first when the model prepends one (Gemma does)
     * @throws IllegalArgumentException when {@code text} is null
     */
    public int[] tokenize(String text) { return model.vocab().tokenize(text); }

    /**
     * The text of one token.
     *
     * @param token a token id, in [0, vocabulary size)
     * @return the token's piece, SentencePiece's {@code ▁} turned into a space and a control token as its text
     *         ({@code <bos>}); a byte token that is part of a multi-byte character decodes to U+FFFD on its own
     * @throws IllegalArgumentException when {@code token} is outside the vocabulary
     */
    public String tokenText(int token) { return model.vocab().piece(token); }

    /**
     * The beginning-of-sequence token (SAE statistics exclude BOS rows).
     *
     * @return the BOS token id ({@code tokenizer.ggml.bos_token_id}; 2 for Gemma), -1 when the vocabulary has none
     */
    public int bosToken() { return model.vocab().bos(); }

    /**
     * A session (KV cache + compute buffers) for up to {@code contextTokens} tokens per batch, {@code threads} CPU threads,
     * with an f32 K/V cache and flash attention off (the numerics of an f32 reference forward pass). Owned by the caller;
     * use from one thread at a time.
     *
     * @param contextTokens the most tokens one batch (and one generation, prompt included) may hold, &gt;= 1; a prompt
     *                      longer than this is refused by capture
     * @param threads       CPU threads for the forward pass, in [1, 512]
     * @return a new session; close it before this model
     * @throws IllegalArgumentException when either value is out of range
     * @throws dev.jlens.errors.NativeException when llama.cpp cannot create the context (e.g. out of memory)
     */
    public LensSession newSession(int contextTokens, int threads) {
        return newSession(contextTokens, threads, false);
    }

    /**
     * As {@link #newSession(int, int)}; {@code fastKv} stores K/V in f16 instead (llama.cpp's default: half the cache
     * memory, ~2e-3 instead of ~4e-5 row error at layer 12).
     *
     * @param contextTokens as {@link #newSession(int, int)}
     * @param threads       as {@link #newSession(int, int)}
     * @param fastKv        true for an f16 K/V cache (flash attention stays off), false for the f32 reference numerics
     * @return a new session; close it before this model
     * @throws IllegalArgumentException when {@code contextTokens} or {@code threads} is out of range
     * @throws dev.jlens.errors.NativeException when llama.cpp cannot create the context
     */
    public LensSession newSession(int contextTokens, int threads, boolean fastKv) {
        return new LensSession(this, model.newContext(Context.Params.defaults().withCtx(contextTokens)
                .withUbatch(Math.min(512, contextTokens)).withThreads(threads).withFastKv(fastKv)));
    }

    /**
     * A session with a 2048-token context, one thread per available processor and the f32 K/V cache.
     *
     * @return a new session; close it before this model
     * @throws dev.jlens.errors.NativeException when llama.cpp cannot create the context
     */
    public LensSession newSession() { return newSession(2048, Runtime.getRuntime().availableProcessors()); }

    Model internal() { return model; }

    @Override
    public void close() { model.close(); }
}
