package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.ggml_init_params;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The JumpReLU SAE encoder as a ggml graph on a ggml backend (CPU here, CUDA when built with it):
 * {@code out = pre * step(pre - threshold)}, {@code pre = W_enc^T x + b_enc}; ggml's step is strict
 * ({@code x > 0}), so a pre-activation equal to its threshold stays inactive, as in Gemma Scope.
 *
 * <p>The weights are uploaded once, transposed into feature rows [d_sae x d_in] (ggml's mul_mat wants
 * the reduced dimension contiguous), in f32 or bf16. Each call builds the graph for exactly its block's tokens
 * (no work on padding) and places it in one compute buffer of ggml's graph allocator (intermediates share memory;
 * the buffer grows to the largest block seen). {@link #encodeSparse} adds {@link GgmlCompaction}'s compaction to the
 * graph, so that only per-token counts and (feature, value) pairs come back from the device (a token over the slot
 * capacity, or one cheaper to read whole, is read as its dense row); {@link #encode} returns the dense
 * [tokens x d_sae] output as before. Not thread-safe; close releases every native buffer.
 */
public final class GgmlJumpRelu implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GgmlJumpRelu.class.getName());

    /** Slots per token of the compact read-back by default: above Gemma Scope's typical L0 (tens to ~200). */
    public static final int DEFAULT_CAPACITY = 256;

    /** Supplies W_enc^T rows: features [f0, f1) as row-major [f1-f0][dIn] f32 into {@code dst}. */
    @FunctionalInterface
    public interface FeatureRows {
        void copy(int f0, int f1, float[] dst);
    }

    public enum Device { CPU, GPU }

    /**
     * One block's sparse result: per token the active features in increasing order and their values, and what
     * was read back from the device for it.
     *
     * @param bytesRead bytes copied back from the backend (counts, slot rows, dense rows)
     * @param slotRows  slot rows read (each holds one (feature, value) pair of every token)
     * @param denseRows tokens read as whole dense rows (over the capacity, or cheaper so)
     */
    public record Sparse(int[][] indices, float[][] values, long bytesRead, int slotRows, int denseRows) {}

    private final int dIn;
    private final int dSae;
    private final int maxTokens;
    private final int capacity;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment backend;
    private final MemorySegment ctxWeights;
    private final MemorySegment bufWeights;
    private final MemorySegment gallocr;
    private final MemorySegment w;
    private final MemorySegment b;
    private final MemorySegment thr;
    private final String backendName;
    private MemorySegment dense;
    private Boolean compactRuns; // null until the first compact graph was checked against the backend
    private long bytesUp;
    private long bytesDown;
    private boolean closed;

    /** As below with {@link #DEFAULT_CAPACITY} slots per token. */
    public static GgmlJumpRelu create(int dIn, int dSae, FeatureRows wEncT, boolean bf16, MemorySegment bEnc, MemorySegment threshold,
                                      int maxTokens, int threads, Device device) {
        return create(dIn, dSae, wEncT, bf16, bEnc, threshold, maxTokens, threads, device, DEFAULT_CAPACITY);
    }

    /**
     * @param bf16      store W_enc as bf16 (halves memory; values are rounded to nearest even)
     * @param bEnc      f32 [dSae]
     * @param threshold f32 [dSae]
     * @param maxTokens the largest block one call may encode
     * @param capacity  slots per token of the compact read-back ({@link #encodeSparse})
     */
    public static GgmlJumpRelu create(int dIn, int dSae, FeatureRows wEncT, boolean bf16, MemorySegment bEnc, MemorySegment threshold,
                                      int maxTokens, int threads, Device device, int capacity) {
        if (dIn < 1 || dSae < 1) throw new IllegalArgumentException("d_in and d_sae must be >= 1, got " + dIn + " x " + dSae);
        if (maxTokens < 1 || maxTokens > 65536) throw new IllegalArgumentException("maxTokens must be in [1, 65536], got " + maxTokens);
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        Objects.requireNonNull(wEncT, "wEncT");
        if (bEnc.byteSize() != 4L * dSae) throw new IllegalArgumentException("b_enc has " + bEnc.byteSize() / 4 + " floats, expected d_sae=" + dSae);
        if (threshold.byteSize() != 4L * dSae) throw new IllegalArgumentException("threshold has " + threshold.byteSize() / 4 + " floats, expected d_sae=" + dSae);
        NativeLibrary.load();
        return new GgmlJumpRelu(dIn, dSae, wEncT, bf16, bEnc, threshold, maxTokens, threads, device, Math.min(capacity, dSae));
    }

    private GgmlJumpRelu(int dIn, int dSae, FeatureRows wEncT, boolean bf16, MemorySegment bEnc, MemorySegment threshold,
                         int maxTokens, int threads, Device device, int capacity) {
        this.dIn = dIn;
        this.dSae = dSae;
        this.maxTokens = maxTokens;
        this.capacity = capacity;
        MemorySegment be = MemorySegment.NULL;
        if (device == Device.GPU) {
            be = LlamaH.ggml_backend_init_by_type(LlamaH.GGML_BACKEND_DEVICE_TYPE_GPU(), MemorySegment.NULL);
            if (be.equals(MemorySegment.NULL)) {
                LOG.log(System.Logger.Level.WARNING, "ggml encoder: no GPU backend in this llama.cpp build (build with scripts/build-native.sh --cuda); using the CPU backend");
            }
        }
        if (be.equals(MemorySegment.NULL)) be = cpuBackend(threads);
        this.backend = be;
        this.backendName = LlamaH.ggml_backend_name(be).reinterpret(256).getString(0);
        MemorySegment cw = MemorySegment.NULL, bw = MemorySegment.NULL, ga = MemorySegment.NULL;
        try {
            long overhead = LlamaH.ggml_tensor_overhead();
            cw = newContext(overhead * 4);
            int wType = bf16 ? LlamaH.GGML_TYPE_BF16() : LlamaH.GGML_TYPE_F32();
            MemorySegment wt = LlamaH.ggml_new_tensor_2d(cw, wType, dIn, dSae);
            MemorySegment bt = LlamaH.ggml_new_tensor_1d(cw, LlamaH.GGML_TYPE_F32(), dSae);
            MemorySegment tt = LlamaH.ggml_new_tensor_1d(cw, LlamaH.GGML_TYPE_F32(), dSae);
            bw = LlamaH.ggml_backend_alloc_ctx_tensors(cw, backend);
            if (bw.equals(MemorySegment.NULL)) {
                throw new LlamaException("ggml_backend_alloc_ctx_tensors", 0, "cannot allocate " + (long) dIn * dSae * (bf16 ? 2 : 4) + " bytes of SAE weights on " + backendName);
            }
            this.w = wt;
            upload(wt, wEncT, bf16);
            LlamaH.ggml_backend_tensor_set(bt, bEnc, 0, 4L * dSae);
            LlamaH.ggml_backend_tensor_set(tt, threshold, 0, 4L * dSae);
            this.b = bt;
            this.thr = tt;
            ga = (MemorySegment) GgmlCompaction.Ops.invoke(GgmlCompaction.Ops.GALLOCR_NEW,
                    (MemorySegment) GgmlCompaction.Ops.invoke(GgmlCompaction.Ops.DEFAULT_BUFT, backend));
            if (ga.equals(MemorySegment.NULL)) throw new LlamaException("ggml_gallocr_new", 0, "no graph allocator for " + backendName);
        } catch (RuntimeException | Error e) {
            if (!ga.equals(MemorySegment.NULL)) GgmlCompaction.Ops.invoke(GgmlCompaction.Ops.GALLOCR_FREE, ga);
            if (!bw.equals(MemorySegment.NULL)) LlamaH.ggml_backend_buffer_free(bw);
            if (!cw.equals(MemorySegment.NULL)) LlamaH.ggml_free(cw);
            LlamaH.ggml_backend_free(backend);
            arena.close();
            throw e;
        }
        this.ctxWeights = cw;
        this.bufWeights = bw;
        this.gallocr = ga;
    }

    /** One block's graph in its own metadata context (freed on close); tensors live in the allocator's buffer. */
    private final class Built implements AutoCloseable {
        final MemorySegment ctx;
        final MemorySegment graph;
        final MemorySegment x;
        final MemorySegment out;
        final GgmlCompaction.Nodes nodes;

        Built(int n, boolean compact) {
            ctx = newContext(LlamaH.ggml_tensor_overhead() * 48 + LlamaH.ggml_graph_overhead());
            try {
                x = LlamaH.ggml_new_tensor_2d(ctx, LlamaH.GGML_TYPE_F32(), dIn, n);
                LlamaH.ggml_set_input(x);
                MemorySegment pre = LlamaH.ggml_add(ctx, LlamaH.ggml_mul_mat(ctx, w, x), b);
                MemorySegment gate = LlamaH.ggml_step(ctx, LlamaH.ggml_sub(ctx, pre, thr));
                out = LlamaH.ggml_mul(ctx, pre, gate);
                LlamaH.ggml_set_output(out);
                graph = LlamaH.ggml_new_graph(ctx);
                if (compact) {
                    nodes = GgmlCompaction.append(ctx, out, gate, dSae, n, capacity);
                    LlamaH.ggml_build_forward_expand(graph, nodes.counts());
                    LlamaH.ggml_build_forward_expand(graph, nodes.vals());
                    LlamaH.ggml_build_forward_expand(graph, nodes.ids());
                } else {
                    nodes = null;
                    LlamaH.ggml_build_forward_expand(graph, out);
                }
            } catch (RuntimeException | Error e) {
                LlamaH.ggml_free(ctx);
                throw e;
            }
        }

        /** Allocates, uploads x and computes. */
        void run(MemorySegment xs, int n) {
            if (!(boolean) GgmlCompaction.Ops.invoke(GgmlCompaction.Ops.GALLOCR_ALLOC_GRAPH, gallocr, graph)) {
                throw new LlamaException("ggml_gallocr_alloc_graph", 0, "cannot allocate the encode buffers for " + n + " tokens x d_sae " + dSae + " on " + backendName);
            }
            long bytes = 4L * n * dIn;
            try (Arena a = Arena.ofConfined()) {
                MemorySegment in = xs.isNative() ? xs : a.allocate(bytes, 64).copyFrom(xs.asSlice(0, bytes));
                LlamaH.ggml_backend_tensor_set(x, in, 0, bytes);
            }
            bytesUp += bytes;
            int st = LlamaH.ggml_backend_graph_compute(backend, graph);
            if (st != LlamaH.GGML_STATUS_SUCCESS()) throw new LlamaException("ggml_backend_graph_compute", st, "SAE encode failed on " + backendName);
        }

        @Override
        public void close() { LlamaH.ggml_free(ctx); }
    }

    private MemorySegment newContext(long bytes) {
        MemorySegment p = ggml_init_params.allocate(arena);
        ggml_init_params.mem_size(p, bytes);
        ggml_init_params.mem_buffer(p, MemorySegment.NULL);
        ggml_init_params.no_alloc(p, true);
        MemorySegment c = LlamaH.ggml_init(p);
        if (c.equals(MemorySegment.NULL)) throw new LlamaException("ggml_init", 0, "cannot create a ggml context");
        return c;
    }

    /** Transposed upload in chunks of features (a few MB at a time, never the whole matrix on the heap). */
    private void upload(MemorySegment w, FeatureRows rows, boolean bf16) {
        int chunk = Math.max(1, Math.min(dSae, (1 << 22) / dIn));
        float[] buf = new float[chunk * dIn];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment staging = a.allocate((long) chunk * dIn * (bf16 ? 2 : 4), 64);
            for (int f0 = 0; f0 < dSae; f0 += chunk) {
                int f1 = Math.min(dSae, f0 + chunk);
                int n = (f1 - f0) * dIn;
                rows.copy(f0, f1, buf);
                if (bf16) {
                    for (int i = 0; i < n; i++) staging.setAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT, i, toBf16(buf[i]));
                    LlamaH.ggml_backend_tensor_set(w, staging, (long) f0 * dIn * 2, (long) n * 2);
                } else {
                    MemorySegment.copy(buf, 0, staging, JAVA_FLOAT, 0, n);
                    LlamaH.ggml_backend_tensor_set(w, staging, (long) f0 * dIn * 4, (long) n * 4);
                }
            }
        }
    }

    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        return (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
    }

    private void checkCall(MemorySegment xs, int nTokens) {
        if (closed) throw new IllegalStateException("ggml encoder is closed");
        if (nTokens < 1 || nTokens > maxTokens) throw new IllegalArgumentException("nTokens " + nTokens + " not in [1, " + maxTokens + "]");
        if (xs.byteSize() < 4L * nTokens * dIn) throw new IllegalArgumentException("input has " + xs.byteSize() / 4 + " floats, expected " + (long) nTokens * dIn);
    }

    /**
     * Encodes {@code nTokens <= maxTokens} rows of x (f32 [nTokens x dIn]) and returns the dense JumpReLU
     * output [nTokens x dSae] as a view of the internal buffer, valid until the next call.
     */
    public MemorySegment encode(MemorySegment xs, int nTokens) {
        checkCall(xs, nTokens);
        if (dense == null) dense = arena.allocate(4L * maxTokens * dSae, 64);
        long outBytes = 4L * nTokens * dSae;
        try (Built g = new Built(nTokens, false)) {
            g.run(xs, nTokens);
            LlamaH.ggml_backend_tensor_get(g.out, dense, 0, outBytes);
        }
        bytesDown += outBytes;
        return dense.asSlice(0, outBytes);
    }

    /**
     * Encodes {@code nTokens <= maxTokens} rows of x (f32 [nTokens x dIn]) with the compaction on the device and
     * returns each token's active features (increasing) and values, bit-identical to scanning {@link #encode}'s
     * dense output for its non-zero values. Where the backend cannot run the compaction graph (checked once, op
     * by op) the dense output is read back and scanned here instead, with the reason logged.
     */
    public Sparse encodeSparse(MemorySegment xs, int nTokens) {
        checkCall(xs, nTokens);
        if (compactRuns == null) {
            try (Built probe = new Built(nTokens, true)) {
                String no = GgmlCompaction.unsupported(backend, probe.graph);
                compactRuns = no == null;
                if (no != null) LOG.log(System.Logger.Level.WARNING, "ggml encoder: " + backendName + " cannot run " + no
                        + " of the compaction graph; reading back dense activations instead");
            }
        }
        if (!compactRuns) return scanDense(encode(xs, nTokens), nTokens);
        int n = nTokens;
        try (Built g = new Built(n, true); Arena a = Arena.ofConfined()) {
            g.run(xs, n);
            MemorySegment countsF = a.allocate(4L * n, 64);
            LlamaH.ggml_backend_tensor_get(g.nodes.counts(), countsF, 0, 4L * n);
            long read = 4L * n;
            int[] counts = new int[n];
            for (int t = 0; t < n; t++) counts[t] = (int) countsF.getAtIndex(JAVA_FLOAT, t);
            long denseRow = 4L * dSae;
            int m = GgmlCompaction.plan(counts, n, capacity, 8L * n, denseRow);
            MemorySegment vals = MemorySegment.NULL, ids = MemorySegment.NULL;
            if (m > 0) {
                long off = 0, len = 4L * n * m; // rows 0..m-1 of the slot-major copy: slots 1..m
                vals = a.allocate(len, 64);
                ids = a.allocate(len, 64);
                LlamaH.ggml_backend_tensor_get(g.nodes.vals(), vals, off, len);
                LlamaH.ggml_backend_tensor_get(g.nodes.ids(), ids, off, len);
                read += 2 * len;
            }
            int[][] idx = new int[n][];
            float[][] val = new float[n][];
            MemorySegment row = null;
            int denseRows = 0;
            for (int t = 0; t < n; t++) {
                int c = counts[t];
                if (c <= m) {
                    int[] ii = new int[c];
                    float[] vv = new float[c];
                    for (int s = 0; s < c; s++) {
                        long at = (long) s * n + t;
                        ii[s] = (int) ids.getAtIndex(JAVA_FLOAT, at);
                        vv[s] = vals.getAtIndex(JAVA_FLOAT, at);
                    }
                    idx[t] = ii;
                    val[t] = vv;
                } else {
                    if (row == null) row = a.allocate(denseRow, 64);
                    LlamaH.ggml_backend_tensor_get(g.out, row, t * denseRow, denseRow);
                    read += denseRow;
                    denseRows++;
                    scanRow(row, 0, idx, val, t);
                    if (idx[t].length != c) {
                        throw new IllegalStateException("token " + t + ": the device counted " + c + " active features, its dense row has " + idx[t].length);
                    }
                }
            }
            bytesDown += read;
            return new Sparse(idx, val, read, m, denseRows);
        }
    }

    private Sparse scanDense(MemorySegment d, int n) {
        int[][] idx = new int[n][];
        float[][] val = new float[n][];
        for (int t = 0; t < n; t++) scanRow(d, (long) t * dSae, idx, val, t);
        return new Sparse(idx, val, 4L * n * dSae, 0, n);
    }

    /** The non-zero entries of the dense row starting at float {@code from}, as the dense path always read them. */
    private void scanRow(MemorySegment d, long from, int[][] idx, float[][] val, int t) {
        int c = 0;
        for (int f = 0; f < dSae; f++) if (d.getAtIndex(JAVA_FLOAT, from + f) != 0f) c++;
        int[] ii = new int[c];
        float[] vv = new float[c];
        c = 0;
        for (int f = 0; f < dSae; f++) {
            float v = d.getAtIndex(JAVA_FLOAT, from + f);
            if (v != 0f) { ii[c] = f; vv[c] = v; c++; }
        }
        idx[t] = ii;
        val[t] = vv;
    }

    public int maxTokens() { return maxTokens; }
    public int capacity() { return capacity; }

    /** Whether {@link #encodeSparse} compacts on the device (false before its first call, or where the backend cannot). */
    public boolean compactsOnDevice() { return Boolean.TRUE.equals(compactRuns); }
    public String backendName() { return backendName; }

    /** Bytes uploaded (inputs) and read back (outputs) since creation. */
    public long bytesUploaded() { return bytesUp; }
    public long bytesReadBack() { return bytesDown; }

    /** The graph allocator's compute buffer now (grows to the largest block seen). */
    public long computeBufferBytes() {
        return (long) GgmlCompaction.Ops.invoke(GgmlCompaction.Ops.GALLOCR_BUFFER_SIZE, gallocr, 0);
    }

    /** Free and total bytes of the backend's device memory as ggml reports them (0, 0 when it cannot tell). */
    public long[] deviceMemory() { return GgmlCompaction.deviceMemory(backend); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        GgmlCompaction.Ops.invoke(GgmlCompaction.Ops.GALLOCR_FREE, gallocr);
        LlamaH.ggml_backend_buffer_free(bufWeights);
        LlamaH.ggml_free(ctxWeights);
        LlamaH.ggml_backend_free(backend);
        arena.close();
    }

    private static final MethodHandle SET_N_THREADS = Linker.nativeLinker().downcallHandle(
            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_INT)); // called through a function pointer

    /**
     * The CPU backend through ggml's device registry, not {@code ggml_backend_cpu_init}: with dynamically loaded
     * backends (GGML_BACKEND_DL, one CPU module per instruction-set variant) the CPU functions are not in libggml
     * and only the registry reaches the variant ggml chose. The thread count goes through the registry's
     * {@code ggml_backend_set_n_threads} procedure for the same reason.
     */
    static MemorySegment cpuBackend(int threads) {
        MemorySegment dev = LlamaH.ggml_backend_dev_by_type(LlamaH.GGML_BACKEND_DEVICE_TYPE_CPU());
        if (dev.equals(MemorySegment.NULL)) throw new LlamaException("ggml_backend_dev_by_type", 0, "no CPU device registered");
        MemorySegment be = LlamaH.ggml_backend_dev_init(dev, MemorySegment.NULL);
        if (be.equals(MemorySegment.NULL)) throw new LlamaException("ggml_backend_dev_init", 0, "the CPU device gave no backend");
        MemorySegment fn;
        try (Arena a = Arena.ofConfined()) {
            fn = LlamaH.ggml_backend_reg_get_proc_address(LlamaH.ggml_backend_dev_backend_reg(dev), a.allocateFrom("ggml_backend_set_n_threads"));
        }
        if (fn.equals(MemorySegment.NULL)) {
            LlamaH.ggml_backend_free(be);
            throw new LlamaException("ggml_backend_reg_get_proc_address", 0, "the CPU backend has no ggml_backend_set_n_threads");
        }
        try {
            SET_N_THREADS.invokeExact(fn, be, threads);
        } catch (Throwable t) {
            LlamaH.ggml_backend_free(be);
            throw new LlamaException("ggml_backend_set_n_threads", 0, "failed: " + t);
        }
        return be;
    }
}
