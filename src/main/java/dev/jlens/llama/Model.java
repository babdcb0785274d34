package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.llama_model_params;
import dev.jlens.bindings.llama_model_tensor_buft_override;
import dev.jlens.formats.GgufFile;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A loaded GGUF model (llama_model). Thread rules: a Model may be shared by threads; its contexts
 * may not (see {@link Context}). Closing the model closes its open contexts first (children before
 * parents), then calls llama_model_free exactly once. Use after close throws IllegalStateException.
 */
public final class Model implements AutoCloseable {
    /**
     * How to load: {@code nGpuLayers} layers offloaded to a GPU backend (0 = CPU only; -1 = all),
     * {@code mmap} to map the file instead of reading it (pages of unused layers stay untouched).
     */
    public record Params(int nGpuLayers, boolean mmap, int captureOffloadLayer) {
        public Params(int nGpuLayers, boolean mmap) { this(nGpuLayers, mmap, -1); }

        public static Params defaults() { return new Params(0, true); }

        /**
         * Offload only what a capture at {@code layer} computes: blocks 0..layer (and their KV cache) on the GPU,
         * the blocks above and the (tied, duplicated) output matrix kept in CPU memory through tensor buffer-type
         * overrides. n_gpu_layers alone would offload the LAST layers, which an early-exit capture never runs.
         */
        public static Params captureOnGpu(int layer) { return new Params(999, true, layer); }
    }

    private final Arena arena = Arena.ofShared();
    private final Path path;
    private final Vocab vocab;
    private final int nEmbd;
    private final int nLayer;
    private final int nHead;
    private final int nHeadKv;
    private final int nCtxTrain;
    private final String architecture;
    private final String description;
    private final List<Context> contexts = new ArrayList<>();
    private final boolean gpu;
    private MemorySegment handle;

    private Model(Path path, MemorySegment handle, boolean gpu) {
        this.path = path;
        this.handle = handle;
        this.gpu = gpu;
        this.nEmbd = LlamaH.llama_model_n_embd(handle);
        this.nLayer = LlamaH.llama_model_n_layer(handle);
        this.nHead = LlamaH.llama_model_n_head(handle);
        this.nHeadKv = LlamaH.llama_model_n_head_kv(handle);
        this.nCtxTrain = LlamaH.llama_model_n_ctx_train(handle);
        this.architecture = metaString(handle, "general.architecture");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            LlamaH.llama_model_desc(handle, buf, 256);
            this.description = buf.getString(0);
        }
        this.vocab = new Vocab(this, LlamaH.llama_model_get_vocab(handle));
    }

    /**
     * Loads a gemma2 GGUF. The file is validated in Java first ({@link ModelFileCheck}) so a corrupt or
     * wrong file gets a typed error instead of reaching llama.cpp's asserts.
     */
    public static Model load(Path gguf, Params params) {
        Objects.requireNonNull(gguf, "gguf");
        Objects.requireNonNull(params, "params");
        String why = GgufFile.notARegularFile(gguf);
        if (why != null) throw new IllegalArgumentException(gguf + ": model file " + why);
        ModelFileCheck.check(gguf);
        return loadUnchecked(gguf, params);
    }

    /**
     * The native half of {@link #load}: hands the file to llama.cpp without the Java check. Only for a file that
     * passed it, and for tests that must show what llama.cpp itself does with a bad file (in a child JVM).
     */
    static Model loadUnchecked(Path gguf, Params params) {
        NativeLibrary.load();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = LlamaH.llama_model_default_params(a);
            llama_model_params.n_gpu_layers(p, params.nGpuLayers());
            llama_model_params.load_mode(p, params.mmap() ? LlamaH.LLAMA_LOAD_MODE_MMAP() : LlamaH.LLAMA_LOAD_MODE_NONE());
            if (params.captureOffloadLayer() >= 0) {
                llama_model_params.tensor_buft_overrides(p, cpuOverrides(a, params.captureOffloadLayer()));
            }
            MemorySegment h = LlamaH.llama_model_load_from_file(a.allocateFrom(gguf.toAbsolutePath().toString()), p);
            if (h.equals(MemorySegment.NULL)) {
                throw new LlamaException("llama_model_load_from_file", 0, gguf + ": llama.cpp could not load the model (see the native log)");
            }
            // llama.cpp pre-faults the whole mapping; an early-exit capture reads only the blocks up to its layer
            if (params.mmap()) MappedPages.release(gguf);
            return new Model(gguf, h, params.nGpuLayers() != 0);
        }
    }

    public static Model load(Path gguf) { return load(gguf, Params.defaults()); }

    /** Tensor-name patterns kept in CPU memory when capturing at {@code layer} with the rest offloaded. */
    static java.util.List<String> cpuPatterns(int layer) {
        StringBuilder above = new StringBuilder();
        for (int l = layer + 1; l < 256; l++) above.append(above.isEmpty() ? "" : "|").append(l);
        return java.util.List.of("^blk\\.(" + above + ")\\.", "^token_embd\\.weight$", "^output_norm\\.weight$");
    }

    /** A NULL-terminated llama_model_tensor_buft_override array mapping {@link #cpuPatterns} to the CPU buffer type. */
    private static MemorySegment cpuOverrides(Arena a, int layer) {
        MemorySegment cpu = LlamaH.ggml_backend_dev_by_type(LlamaH.GGML_BACKEND_DEVICE_TYPE_CPU());
        if (cpu.equals(MemorySegment.NULL)) throw new LlamaException("ggml_backend_dev_by_type", 0, "no CPU device");
        MemorySegment cpuBuft = LlamaH.ggml_backend_dev_buffer_type(cpu);
        java.util.List<String> pats = cpuPatterns(layer);
        MemorySegment arr = llama_model_tensor_buft_override.allocateArray(pats.size() + 1, a);
        for (int i = 0; i < pats.size(); i++) {
            MemorySegment e = llama_model_tensor_buft_override.asSlice(arr, i);
            llama_model_tensor_buft_override.pattern(e, a.allocateFrom(pats.get(i)));
            llama_model_tensor_buft_override.buft(e, cpuBuft);
        }
        MemorySegment end = llama_model_tensor_buft_override.asSlice(arr, pats.size());
        llama_model_tensor_buft_override.pattern(end, MemorySegment.NULL);
        llama_model_tensor_buft_override.buft(end, MemorySegment.NULL);
        return arr;
    }

    /** Whether this model was loaded with layers offloaded to a GPU ({@code nGpuLayers != 0}). */
    public boolean offloaded() { return gpu; }

    /** Creates a context (KV cache + compute buffers) on this model; close it before the model. */
    public Context newContext(Context.Params params) {
        synchronized (contexts) {
            Context c = new Context(this, params);
            contexts.add(c);
            return c;
        }
    }

    void forget(Context c) {
        synchronized (contexts) { contexts.remove(c); }
    }

    MemorySegment handle() {
        MemorySegment h = handle;
        if (h == null) throw new IllegalStateException("model " + path + " is closed");
        return h;
    }

    public Path path() { return path; }
    public Vocab vocab() { return vocab; }
    /** Residual stream width (d_model), 2304 for Gemma 2 2B. */
    public int nEmbd() { return nEmbd; }
    public int nLayer() { return nLayer; }
    public int nHead() { return nHead; }
    public int nHeadKv() { return nHeadKv; }
    public int nCtxTrain() { return nCtxTrain; }
    public String architecture() { return architecture; }
    public String description() { return description; }

    /** Reads a GGUF metadata string through llama.cpp (empty when absent). */
    public String meta(String key) { return metaString(handle(), key); }

    private static String metaString(MemorySegment model, String key) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(1024);
            int n = LlamaH.llama_model_meta_val_str(model, a.allocateFrom(key), buf, 1024);
            return n < 0 ? "" : buf.getString(0);
        }
    }

    public boolean isClosed() { return handle == null; }

    @Override
    public void close() {
        List<Context> open;
        synchronized (contexts) {
            if (handle == null) return;
            open = new ArrayList<>(contexts);
        }
        for (Context c : open) c.close();
        synchronized (contexts) {
            if (handle == null) return;
            LlamaH.llama_model_free(handle);
            handle = null;
        }
        arena.close();
    }
}
