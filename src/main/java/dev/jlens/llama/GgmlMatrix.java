package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.NativeSymbols;
import dev.jlens.bindings.ggml_init_params;
import dev.jlens.formats.GgmlType;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A [rows x cols] matrix of any ggml type (e.g. a model's quantized {@code token_embd}), read in place from host
 * memory (a memory-mapped GGUF: nothing is copied or dequantised), multiplied by blocks of f32 vectors with ggml's
 * {@code mul_mat} on the CPU backend: {@code out[i][r] = x_i . W[r]}. ggml converts the vectors to the matrix's
 * dot-product type first (Q8_0 for Q8_0 and Q4_0 weights, so their dot products round differently from an f32 dot
 * product of dequantised rows). Each output element is one dot product over the whole row, whatever the thread
 * count, so the results do not depend on it. Not thread-safe; close releases every native buffer (the matrix's
 * memory stays its owner's).
 */
public final class GgmlMatrix implements AutoCloseable {
    /** ggml's tensor alignment (ggml-impl.h TENSOR_ALIGNMENT): the CPU buffer over host memory asserts it. */
    private static final long ALIGNMENT = 32;

    private final int cols;
    private final int rows;
    private final int maxVectors;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment backend;
    private final MemorySegment ctxWeights;
    private final MemorySegment bufWeights;
    private final MemorySegment gallocr;
    private final MemorySegment w;
    private final MemorySegment staging;
    private final MemorySegment result;
    private boolean closed;

    /**
     * @param data       the matrix as ggml stores it: {@code rows} rows of {@code type.rowBytes(cols)} bytes; a native
     *                   segment aligned to 32 bytes is used in place (it must outlive this object), anything else is
     *                   copied once
     * @param maxVectors the most vectors one {@link #multiply} call takes (its output is maxVectors x rows floats)
     */
    public static GgmlMatrix wrap(MemorySegment data, GgmlType type, int cols, int rows, int maxVectors, int threads) {
        if (cols < 1 || rows < 1) throw new IllegalArgumentException("matrix must be at least 1 x 1, got " + rows + " x " + cols);
        if (cols % type.blockSize != 0) throw new IllegalArgumentException(cols + " columns are not whole " + type + " blocks of " + type.blockSize);
        if (maxVectors < 1) throw new IllegalArgumentException("maxVectors must be >= 1, got " + maxVectors);
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        long bytes = type.rowBytes(cols) * rows;
        if (data.byteSize() != bytes) throw new IllegalArgumentException("matrix data has " + data.byteSize() + " bytes, " + rows + " x " + cols + " " + type + " needs " + bytes);
        NativeLibrary.load();
        return new GgmlMatrix(data, type, cols, rows, maxVectors, threads, bytes);
    }

    private GgmlMatrix(MemorySegment data, GgmlType type, int cols, int rows, int maxVectors, int threads, long bytes) {
        this.cols = cols;
        this.rows = rows;
        this.maxVectors = maxVectors;
        MemorySegment be = GgmlJumpRelu.cpuBackend(threads);
        MemorySegment cw = MemorySegment.NULL, bw = MemorySegment.NULL, ga = MemorySegment.NULL;
        try {
            MemorySegment host;
            if (data.isNative() && data.address() % ALIGNMENT == 0) {
                host = MemorySegment.ofAddress(data.address()).reinterpret(bytes); // in place (read-only: ggml only reads src0)
            } else {
                host = arena.allocate(bytes, ALIGNMENT).copyFrom(data);
            }
            bw = (MemorySegment) GgmlCompaction.Ops.invoke(Ops.BUFFER_FROM_PTR, host, bytes);
            if (bw.equals(MemorySegment.NULL)) throw new LlamaException("ggml_backend_cpu_buffer_from_ptr", 0, "cannot wrap " + bytes + " bytes");
            cw = newContext(LlamaH.ggml_tensor_overhead() * 2);
            MemorySegment wt = LlamaH.ggml_new_tensor_2d(cw, type.id, cols, rows);
            int st = (int) GgmlCompaction.Ops.invoke(Ops.TENSOR_ALLOC, bw, wt, host);
            if (st != LlamaH.GGML_STATUS_SUCCESS()) throw new LlamaException("ggml_backend_tensor_alloc", st, "cannot place the matrix in its buffer");
            ga = (MemorySegment) GgmlCompaction.Ops.invoke(GgmlCompaction.Ops.GALLOCR_NEW,
                    (MemorySegment) GgmlCompaction.Ops.invoke(GgmlCompaction.Ops.DEFAULT_BUFT, be));
            if (ga.equals(MemorySegment.NULL)) throw new LlamaException("ggml_gallocr_new", 0, "no graph allocator for the CPU backend");
            this.w = wt;
            this.staging = arena.allocate(4L * cols * maxVectors, 64);
            this.result = arena.allocate(4L * rows * maxVectors, 64);
        } catch (RuntimeException | Error e) {
            if (!ga.equals(MemorySegment.NULL)) GgmlCompaction.Ops.invoke(GgmlCompaction.Ops.GALLOCR_FREE, ga);
            if (!cw.equals(MemorySegment.NULL)) LlamaH.ggml_free(cw);
            if (!bw.equals(MemorySegment.NULL)) LlamaH.ggml_backend_buffer_free(bw);
            LlamaH.ggml_backend_free(be);
            arena.close();
            throw e;
        }
        this.backend = be;
        this.ctxWeights = cw;
        this.bufWeights = bw;
        this.gallocr = ga;
    }

    public int cols() { return cols; }
    public int rows() { return rows; }
    public int maxVectors() { return maxVectors; }

    /**
     * Multiplies {@code n} vectors ({@code x[i*cols .. (i+1)*cols)}) by the matrix and hands {@code out} the
     * products, vector-major: float {@code i * rows + r} is x_i . W[r]. The segment is valid only during the call.
     */
    public void multiply(float[] x, int n, Consumer<MemorySegment> out) {
        if (closed) throw new IllegalStateException("closed");
        if (n < 1 || n > maxVectors) throw new IllegalArgumentException("n must be in [1, " + maxVectors + "], got " + n);
        if (x.length < (long) n * cols) throw new IllegalArgumentException(x.length + " floats hold fewer than " + n + " vectors of " + cols);
        MemorySegment ctx = newContext(LlamaH.ggml_tensor_overhead() * 4 + LlamaH.ggml_graph_overhead());
        try {
            MemorySegment xt = LlamaH.ggml_new_tensor_2d(ctx, LlamaH.GGML_TYPE_F32(), cols, n);
            LlamaH.ggml_set_input(xt);
            MemorySegment prod = LlamaH.ggml_mul_mat(ctx, w, xt); // [rows x n]: vector i's products are row i
            LlamaH.ggml_set_output(prod);
            MemorySegment graph = LlamaH.ggml_new_graph(ctx);
            LlamaH.ggml_build_forward_expand(graph, prod);
            if (!(boolean) GgmlCompaction.Ops.invoke(GgmlCompaction.Ops.GALLOCR_ALLOC_GRAPH, gallocr, graph)) {
                throw new LlamaException("ggml_gallocr_alloc_graph", 0, "cannot allocate " + n + " x " + rows + " products");
            }
            long inBytes = 4L * n * cols, outBytes = 4L * n * rows;
            MemorySegment.copy(x, 0, staging, JAVA_FLOAT, 0, n * cols);
            LlamaH.ggml_backend_tensor_set(xt, staging, 0, inBytes);
            int st = LlamaH.ggml_backend_graph_compute(backend, graph);
            if (st != LlamaH.GGML_STATUS_SUCCESS()) throw new LlamaException("ggml_backend_graph_compute", st, "mul_mat failed");
            LlamaH.ggml_backend_tensor_get(prod, result, 0, outBytes);
            out.accept(result.asSlice(0, outBytes).asReadOnly());
        } finally {
            LlamaH.ggml_free(ctx);
        }
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

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        GgmlCompaction.Ops.invoke(GgmlCompaction.Ops.GALLOCR_FREE, gallocr);
        LlamaH.ggml_free(ctxWeights);
        LlamaH.ggml_backend_buffer_free(bufWeights); // a host-pointer buffer: frees nothing of the matrix's memory
        LlamaH.ggml_backend_free(backend);
        arena.close();
    }

    /** Hand-written downcalls not in the generated bindings (as {@link GgmlCompaction.Ops}). */
    private static final class Ops {
        static final MethodHandle BUFFER_FROM_PTR = h("ggml_backend_cpu_buffer_from_ptr", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG));
        static final MethodHandle TENSOR_ALLOC = h("ggml_backend_tensor_alloc", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));

        private Ops() {}

        private static MethodHandle h(String name, FunctionDescriptor fd) {
            NativeLibrary.load();
            MemorySegment fn = NativeSymbols.lookup().find(name)
                    .orElseThrow(() -> new LlamaException(name, 0, "symbol not found in the loaded ggml"));
            return Linker.nativeLinker().downcallHandle(fn, fd);
        }
    }
}
