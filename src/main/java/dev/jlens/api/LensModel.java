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

    /** Loads a model on the CPU (memory-mapped). Throws IllegalArgumentException naming the file when it is invalid. */
    public static LensModel load(Path gguf) { return new LensModel(Model.load(gguf)); }

    /** Loads a model offloading {@code gpuLayers} layers when the native build has a GPU backend (0 = CPU only). */
    public static LensModel load(Path gguf, int gpuLayers) { return new LensModel(Model.load(gguf, new Model.Params(gpuLayers, true))); }

    /**
     * Loads a model for capturing {@code layer} on a GPU: blocks 0..layer go to the GPU, the blocks above and the
     * (tied) embedding/output matrix stay in CPU memory, since an early-exit capture never runs them. Needs a
     * llama.cpp build with a GPU backend (scripts/build-native.sh --cuda, pointed to by -Djlens.native.dir);
     * throws IllegalStateException when the loaded build has no GPU device. Activations differ from a CPU
     * capture by GPU rounding (about 1e-3 relative on an F32 model).
     */
    public static LensModel loadForGpuCapture(Path gguf, int layer) {
        if (layer < 0) throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        if (!hasGpu()) throw new IllegalStateException("the loaded llama.cpp build has no GPU device (build with scripts/build-native.sh --cuda)");
        return new LensModel(Model.load(gguf, Model.Params.captureOnGpu(layer)));
    }

    /** Whether the loaded llama.cpp build registered a GPU device. */
    public static boolean hasGpu() { return !dev.jlens.llama.Backends.gpus().isEmpty(); }

    /** Residual stream width (2304 for Gemma 2 2B). */
    public int dModel() { return model.nEmbd(); }

    /** Number of transformer blocks (26 for Gemma 2 2B). */
    public int layers() { return model.nLayer(); }

    /** {@code general.architecture} of the file ({@code gemma2}). */
    public String architecture() { return model.architecture(); }

    /** The file loaded. */
    public Path path() { return model.path(); }

    /** Token ids for a prompt, BOS prepended as the model says; special-token text is not parsed. */
    public int[] tokenize(String text) { return model.vocab().tokenize(text); }

    /** The text of a token id. */
    public String tokenText(int token) { return model.vocab().piece(token); }

    /** BOS token id (SAE statistics exclude BOS rows). */
    public int bosToken() { return model.vocab().bos(); }

    /**
     * A session (KV cache + compute buffers) for up to {@code contextTokens} tokens per batch, {@code threads} CPU threads,
     * with an f32 K/V cache and flash attention off (the numerics of an f32 reference forward pass). Owned by the caller;
     * use from one thread at a time.
     */
    public LensSession newSession(int contextTokens, int threads) {
        return newSession(contextTokens, threads, false);
    }

    /**
     * As {@link #newSession(int, int)}; {@code fastKv} stores K/V in f16 instead (llama.cpp's default: half the cache
     * memory, ~2e-3 instead of ~4e-5 row error at layer 12).
     */
    public LensSession newSession(int contextTokens, int threads, boolean fastKv) {
        return new LensSession(this, model.newContext(Context.Params.defaults().withCtx(contextTokens)
                .withUbatch(Math.min(512, contextTokens)).withThreads(threads).withFastKv(fastKv)));
    }

    /** A session with a 2048-token context and all cores. */
    public LensSession newSession() { return newSession(2048, Runtime.getRuntime().availableProcessors()); }

    Model internal() { return model; }

    @Override
    public void close() { model.close(); }
}
