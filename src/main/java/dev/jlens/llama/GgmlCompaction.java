package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.NativeSymbols;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Compaction of a gated [d_sae x tokens] activation on the device, as a ggml graph of stock ops, so that only
 * per-token counts and (feature, value) pairs are read back instead of the dense matrix:
 * <pre>
 *   mask  = step(pre - threshold)                  0/1 per (token, feature)
 *   cum   = cumsum(mask)                            along features: 1..count at the active ones (exact in f32
 *                                                   below 2^24 features: every partial sum is an integer)
 *   count = cum[d_sae - 1]                          per token (a strided view, made contiguous)
 *   a     = clamp(cum * mask, 0, C + 1)             0 inactive, 1..C the active ones in feature order, C + 1 overflow
 *   slot  = i32(a if 1 <= a <= C else C + 1 + f)    (with step/scale_bias/mul/add; all values exact integers)
 *   S[slot, t] = gated[f, t],  I[slot, t] = f        two set_rows scatters into token-major [(C + 1 + d_sae) x tokens]
 *   vals = cont(transpose(S[1..C])), ids likewise    slot-major [tokens x C]: slot s + 1 of every token is row s
 * </pre>
 * Every (token, feature) that is not one of the first C active ones writes its own slot C + 1 + f, never read, so no
 * two writes meet (ggml leaves overlapping set_rows writes undefined, and one shared trash slot would have every
 * thread store into one cache line, or serialise a GPU's stores); the token-major storage keeps those writes
 * sequential per token. The price is two [tokens x d_sae] buffers of device memory, not transfer. The slot-major
 * copy makes the m slot rows that {@link #plan} picks from the counts one contiguous read; a token whose count
 * exceeds the capacity C, or one cheaper to read dense, is read from the dense gated tensor instead (it stays in the
 * compute buffer as a graph output). The values are copies of the gated tensor's elements (set_rows and cont from f32
 * to f32 convert nothing), so the compact result is bit-identical to scanning the dense one.
 *
 * <p>Ops checked at the pinned llama.cpp: CUMSUM (f32, CPU and CUDA), SET_ROWS (f32 source, I32 indices, any
 * destination strides; CPU and CUDA), CPY f32 to I32 (CPU dup, CUDA cpy), CLAMP, SCALE with bias, STEP, ARANGE,
 * REPEAT (f32), VIEW/TRANSPOSE/CONT.
 * The functions below are not in the generated bindings (jextract is not available to regenerate them), so they
 * are hand-written downcalls into the loaded ggml, as {@link RowDequantizer} does.
 */
public final class GgmlCompaction {
    private GgmlCompaction() {}

    /** ggml's enum ggml_type value of I32 (ggml.h). */
    static final int GGML_TYPE_I32 = 26;

    /** The tensors the compaction adds: counts [1 x T] f32, slot-major [T x C] f32 values and feature ids, their scatters. */
    record Nodes(MemorySegment counts, MemorySegment vals, MemorySegment ids, MemorySegment setVals, MemorySegment setIds) {}

    /**
     * Appends the compaction of {@code gated} ([dSae x nTokens] f32, contiguous) with its 0/1 {@code mask} (same
     * shape) to context {@code ctx} (no_alloc); the caller expands {@link Nodes#counts()}, {@link Nodes#vals()} and
     * {@link Nodes#ids()} (which depend on the scatters) into its graph.
     */
    static Nodes append(MemorySegment ctx, MemorySegment gated, MemorySegment mask, int dSae, int nTokens, int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1: " + capacity);
        if (dSae >= (1 << 24)) throw new IllegalArgumentException("d_sae " + dSae + " >= 2^24: f32 slot numbers would not be exact");
        int f32 = LlamaH.GGML_TYPE_F32();
        MemorySegment cum = Ops.call(Ops.CUMSUM, ctx, mask);
        MemorySegment last = Ops.call(Ops.VIEW_2D, ctx, cum, 1L, (long) nTokens, 4L * dSae, 4L * (dSae - 1));
        MemorySegment counts = Ops.call(Ops.CONT, ctx, last);
        MemorySegment key = LlamaH.ggml_mul(ctx, cum, mask);
        MemorySegment a = Ops.call(Ops.CLAMP, ctx, key, 0f, (float) (capacity + 1));
        MemorySegment ar = Ops.call(Ops.ARANGE, ctx, 0f, (float) dSae, 1f);
        MemorySegment featureIds = LlamaH.ggml_repeat(ctx, ar, gated);
        // in = 1 where 1 <= a <= C; slot = t + in * (a - t) with t = C + 1 + f (each feature's own unread slot)
        MemorySegment in = LlamaH.ggml_mul(ctx, LlamaH.ggml_step(ctx, Ops.call(Ops.SCALE_BIAS, ctx, a, 1f, -0.5f)),
                LlamaH.ggml_step(ctx, Ops.call(Ops.SCALE_BIAS, ctx, a, -1f, capacity + 0.5f)));
        MemorySegment own = Ops.call(Ops.SCALE_BIAS, ctx, featureIds, 1f, (float) (capacity + 1));
        MemorySegment slot = LlamaH.ggml_add(ctx, own, LlamaH.ggml_mul(ctx, in, LlamaH.ggml_sub(ctx, a, own)));
        MemorySegment slotI = Ops.call(Ops.CAST, ctx, slot, GGML_TYPE_I32);
        long rows = (long) capacity + 1 + dSae;
        MemorySegment valStore = LlamaH.ggml_new_tensor_2d(ctx, f32, rows, nTokens);
        MemorySegment idStore = LlamaH.ggml_new_tensor_2d(ctx, f32, rows, nTokens);
        MemorySegment setVals = Ops.call(Ops.SET_ROWS, ctx, Ops.call(Ops.RESHAPE_3D, ctx, valStore, 1L, rows, (long) nTokens),
                Ops.call(Ops.RESHAPE_3D, ctx, gated, 1L, (long) dSae, (long) nTokens), slotI);
        MemorySegment setIds = Ops.call(Ops.SET_ROWS, ctx, Ops.call(Ops.RESHAPE_3D, ctx, idStore, 1L, rows, (long) nTokens),
                Ops.call(Ops.RESHAPE_3D, ctx, featureIds, 1L, (long) dSae, (long) nTokens), slotI);
        MemorySegment vals = slotMajor(ctx, setVals, nTokens, capacity, rows);
        MemorySegment ids = slotMajor(ctx, setIds, nTokens, capacity, rows);
        for (MemorySegment t : new MemorySegment[] {counts, vals, ids, setVals, setIds}) LlamaH.ggml_set_output(t);
        return new Nodes(counts, vals, ids, setVals, setIds);
    }

    /** Slots 1..C of the token-major scattered storage [rows x T], copied slot-major: [T x C], slot s + 1 in row s. */
    private static MemorySegment slotMajor(MemorySegment ctx, MemorySegment scattered, int nTokens, int capacity, long rows) {
        MemorySegment inCap = Ops.call(Ops.VIEW_2D, ctx, scattered, (long) capacity, (long) nTokens, 4L * rows, 4L);
        return Ops.call(Ops.CONT, ctx, Ops.call(Ops.TRANSPOSE, ctx, inCap));
    }

    /**
     * How many slot rows to read back: the m in [0, capacity] minimising {@code m * slotRowBytes} plus
     * {@code denseRowBytes} for every token whose count exceeds m (read dense instead). Tokens above the capacity
     * are always dense.
     */
    public static int plan(int[] counts, int n, int capacity, long slotRowBytes, long denseRowBytes) {
        int[] s = Arrays.copyOf(counts, n);
        Arrays.sort(s);
        int best = 0;
        long bestCost = Long.MAX_VALUE;
        int i = 0; // tokens with count <= m
        for (int m = 0; ; ) {
            while (i < n && s[i] <= m) i++;
            long cost = m * slotRowBytes + (long) (n - i) * denseRowBytes;
            if (cost < bestCost) { bestCost = cost; best = m; }
            if (i >= n || s[i] > capacity) break;
            m = s[i];
        }
        return best;
    }

    /** Whether the backend runs every node of {@code graph}; else the first node it cannot run, as "OP (name)". */
    static String unsupported(MemorySegment backend, MemorySegment graph) {
        int n = (int) Ops.invoke(Ops.GRAPH_N_NODES, graph);
        for (int i = 0; i < n; i++) {
            MemorySegment node = (MemorySegment) Ops.invoke(Ops.GRAPH_NODE, graph, i);
            if (!(boolean) Ops.invoke(Ops.SUPPORTS_OP, backend, node)) {
                MemorySegment desc = (MemorySegment) Ops.invoke(Ops.OP_DESC, node);
                return desc.reinterpret(64).getString(0) + " (" + LlamaH.ggml_get_name(node).reinterpret(64).getString(0) + ")";
            }
        }
        return null;
    }

    /** Free and total bytes of the backend's device (ggml_backend_dev_memory). */
    static long[] deviceMemory(MemorySegment backend) {
        MemorySegment dev = (MemorySegment) Ops.invoke(Ops.GET_DEVICE, backend);
        if (dev.equals(MemorySegment.NULL)) return new long[] {0, 0};
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG), total = a.allocate(JAVA_LONG);
            Ops.invoke(Ops.DEV_MEMORY, dev, free, total);
            return new long[] {free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0)};
        }
    }

    /** Hand-written downcalls (see the class comment); resolved on first use, after {@link NativeLibrary#load()}. */
    static final class Ops {
        private static final Linker LINKER = Linker.nativeLinker();
        static final MethodHandle CUMSUM = h("ggml_cumsum", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle SET_ROWS = h("ggml_set_rows", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle CLAMP = h("ggml_clamp", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_FLOAT));
        static final MethodHandle CAST = h("ggml_cast", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle ARANGE = h("ggml_arange", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_FLOAT, JAVA_FLOAT));
        static final MethodHandle SCALE_BIAS = h("ggml_scale_bias", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_FLOAT));
        static final MethodHandle TRANSPOSE = h("ggml_transpose", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle CONT = h("ggml_cont", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        static final MethodHandle VIEW_2D = h("ggml_view_2d", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        static final MethodHandle VIEW_3D = h("ggml_view_3d",
                FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        static final MethodHandle RESHAPE_3D = h("ggml_reshape_3d", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        static final MethodHandle GALLOCR_NEW = h("ggml_gallocr_new", FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle GALLOCR_ALLOC_GRAPH = h("ggml_gallocr_alloc_graph", FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, ADDRESS));
        static final MethodHandle GALLOCR_FREE = h("ggml_gallocr_free", FunctionDescriptor.ofVoid(ADDRESS));
        static final MethodHandle GALLOCR_BUFFER_SIZE = h("ggml_gallocr_get_buffer_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_INT));
        static final MethodHandle DEFAULT_BUFT = h("ggml_backend_get_default_buffer_type", FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle SUPPORTS_OP = h("ggml_backend_supports_op", FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, ADDRESS));
        static final MethodHandle GRAPH_N_NODES = h("ggml_graph_n_nodes", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        static final MethodHandle GRAPH_NODE = h("ggml_graph_node", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT));
        static final MethodHandle OP_DESC = h("ggml_op_desc", FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle GET_DEVICE = h("ggml_backend_get_device", FunctionDescriptor.of(ADDRESS, ADDRESS));
        static final MethodHandle DEV_MEMORY = h("ggml_backend_dev_memory", FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS));

        private Ops() {}

        private static MethodHandle h(String name, FunctionDescriptor fd) {
            NativeLibrary.load();
            MemorySegment fn = NativeSymbols.lookup().find(name)
                    .orElseThrow(() -> new LlamaException(name, 0, "symbol not found in the loaded ggml"));
            return LINKER.downcallHandle(fn, fd);
        }

        /** A ggml constructor: fails loudly when ggml returns NULL (it aborts on a shape error before that). */
        static MemorySegment call(MethodHandle h, Object... args) {
            MemorySegment r = (MemorySegment) invoke(h, args);
            if (r.equals(MemorySegment.NULL)) throw new LlamaException("ggml", 0, "a graph constructor returned NULL");
            return r;
        }

        static Object invoke(MethodHandle h, Object... args) {
            try {
                return h.invokeWithArguments(args);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new LlamaException("ggml downcall", 0, t.toString());
            }
        }
    }
}
