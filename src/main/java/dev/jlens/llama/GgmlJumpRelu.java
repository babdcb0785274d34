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
 * the reduced dimension contiguous), in f32 or bf16. Each {@link #encode} computes one block of at most
 * {@code maxTokens} tokens into an owned off-heap dense buffer [maxTokens x d_sae] that the caller
 * sparsifies; nothing per token outlives the block. Not thread-safe; close releases every native buffer.
 */
public final class GgmlJumpRelu implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GgmlJumpRelu.class.getName());

    /** Supplies W_enc^T rows: features [f0, f1) as row-major [f1-f0][dIn] f32 into {@code dst}. */
    @FunctionalInterface
    public interface FeatureRows {
        void copy(int f0, int f1, float[] dst);
    }

    public enum Device { CPU, GPU }

    private final int dIn;
    private final int dSae;
    private final int maxTokens;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment backend;
    private final MemorySegment ctxWeights;
    private final MemorySegment ctxCompute;
    private final MemorySegment bufWeights;
    private final MemorySegment bufCompute;
    private final MemorySegment x;
    private final MemorySegment out;
    private final MemorySegment graph;
    private final MemorySegment dense;
    private final String backendName;
    private boolean closed;

    /**
     * @param bf16      store W_enc as bf16 (halves memory; values are rounded to nearest even)
     * @param bEnc      f32 [dSae]
     * @param threshold f32 [dSae]
     */
    public static GgmlJumpRelu create(int dIn, int dSae, FeatureRows wEncT, boolean bf16, MemorySegment bEnc, MemorySegment threshold,
                                      int maxTokens, int threads, Device device) {
        if (dIn < 1 || dSae < 1) throw new IllegalArgumentException("d_in and d_sae must be >= 1, got " + dIn + " x " + dSae);
        if (maxTokens < 1 || maxTokens > 65536) throw new IllegalArgumentException("maxTokens must be in [1, 65536], got " + maxTokens);
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        Objects.requireNonNull(wEncT, "wEncT");
        if (bEnc.byteSize() != 4L * dSae) throw new IllegalArgumentException("b_enc has " + bEnc.byteSize() / 4 + " floats, expected d_sae=" + dSae);
        if (threshold.byteSize() != 4L * dSae) throw new IllegalArgumentException("threshold has " + threshold.byteSize() / 4 + " floats, expected d_sae=" + dSae);
        NativeLibrary.load();
        return new GgmlJumpRelu(dIn, dSae, wEncT, bf16, bEnc, threshold, maxTokens, threads, device);
    }

    private GgmlJumpRelu(int dIn, int dSae, FeatureRows wEncT, boolean bf16, MemorySegment bEnc, MemorySegment threshold,
                         int maxTokens, int threads, Device device) {
        this.dIn = dIn;
        this.dSae = dSae;
        this.maxTokens = maxTokens;
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
        MemorySegment cw = MemorySegment.NULL, cc = MemorySegment.NULL, bw = MemorySegment.NULL, bc = MemorySegment.NULL;
        try {
            long overhead = LlamaH.ggml_tensor_overhead();
            cw = newContext(overhead * 4);
            int wType = bf16 ? LlamaH.GGML_TYPE_BF16() : LlamaH.GGML_TYPE_F32();
            MemorySegment w = LlamaH.ggml_new_tensor_2d(cw, wType, dIn, dSae);
            MemorySegment b = LlamaH.ggml_new_tensor_1d(cw, LlamaH.GGML_TYPE_F32(), dSae);
            MemorySegment thr = LlamaH.ggml_new_tensor_1d(cw, LlamaH.GGML_TYPE_F32(), dSae);
            bw = LlamaH.ggml_backend_alloc_ctx_tensors(cw, backend);
            if (bw.equals(MemorySegment.NULL)) {
                throw new LlamaException("ggml_backend_alloc_ctx_tensors", 0, "cannot allocate " + (long) dIn * dSae * (bf16 ? 2 : 4) + " bytes of SAE weights on " + backendName);
            }
            upload(w, wEncT, bf16);
            LlamaH.ggml_backend_tensor_set(b, bEnc, 0, 4L * dSae);
            LlamaH.ggml_backend_tensor_set(thr, threshold, 0, 4L * dSae);

            cc = newContext(overhead * 16 + LlamaH.ggml_graph_overhead());
            MemorySegment xt = LlamaH.ggml_new_tensor_2d(cc, LlamaH.GGML_TYPE_F32(), dIn, maxTokens);
            MemorySegment pre = LlamaH.ggml_add(cc, LlamaH.ggml_mul_mat(cc, w, xt), b);
            MemorySegment gate = LlamaH.ggml_step(cc, LlamaH.ggml_sub(cc, pre, thr));
            MemorySegment o = LlamaH.ggml_mul(cc, pre, gate);
            MemorySegment g = LlamaH.ggml_new_graph(cc);
            LlamaH.ggml_build_forward_expand(g, o);
            bc = LlamaH.ggml_backend_alloc_ctx_tensors(cc, backend);
            if (bc.equals(MemorySegment.NULL)) {
                throw new LlamaException("ggml_backend_alloc_ctx_tensors", 0, "cannot allocate the encode buffers for " + maxTokens + " tokens");
            }
            this.x = xt;
            this.out = o;
            this.graph = g;
            this.dense = arena.allocate(4L * maxTokens * dSae, 64);
        } catch (RuntimeException | Error e) {
            if (!bc.equals(MemorySegment.NULL)) LlamaH.ggml_backend_buffer_free(bc);
            if (!bw.equals(MemorySegment.NULL)) LlamaH.ggml_backend_buffer_free(bw);
            if (!cc.equals(MemorySegment.NULL)) LlamaH.ggml_free(cc);
            if (!cw.equals(MemorySegment.NULL)) LlamaH.ggml_free(cw);
            LlamaH.ggml_backend_free(backend);
            arena.close();
            throw e;
        }
        this.ctxWeights = cw;
        this.ctxCompute = cc;
        this.bufWeights = bw;
        this.bufCompute = bc;
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

    /**
     * Encodes {@code nTokens <= maxTokens} rows of x (f32 [nTokens x dIn]) and returns the dense JumpReLU
     * output [nTokens x dSae] as a view of the internal buffer, valid until the next call.
     */
    public MemorySegment encode(MemorySegment xs, int nTokens) {
        if (closed) throw new IllegalStateException("ggml encoder is closed");
        if (nTokens < 1 || nTokens > maxTokens) throw new IllegalArgumentException("nTokens " + nTokens + " not in [1, " + maxTokens + "]");
        long bytes = 4L * nTokens * dIn;
        if (xs.byteSize() < bytes) throw new IllegalArgumentException("input has " + xs.byteSize() / 4 + " floats, expected " + (long) nTokens * dIn);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment in = xs.isNative() ? xs : a.allocate(bytes, 64).copyFrom(xs.asSlice(0, bytes));
            LlamaH.ggml_backend_tensor_set(x, in, 0, bytes);
        }
        // columns past nTokens hold stale input: computed but never read
        int st = LlamaH.ggml_backend_graph_compute(backend, graph);
        if (st != LlamaH.GGML_STATUS_SUCCESS()) throw new LlamaException("ggml_backend_graph_compute", st, "SAE encode failed on " + backendName);
        long outBytes = 4L * nTokens * dSae;
        LlamaH.ggml_backend_tensor_get(out, dense, 0, outBytes);
        return dense.asSlice(0, outBytes);
    }

    public int maxTokens() { return maxTokens; }
    public String backendName() { return backendName; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        LlamaH.ggml_backend_buffer_free(bufCompute);
        LlamaH.ggml_backend_buffer_free(bufWeights);
        LlamaH.ggml_free(ctxCompute);
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
    private static MemorySegment cpuBackend(int threads) {
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
