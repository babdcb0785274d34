package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.ggml_tensor;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The eval-callback side of a capture: answers ggml's scheduler "yes" only for the nodes
 * {@code l_out-L} of the requested layers, copies each computed node (ggml_backend_tensor_get, so
 * device tensors work too) into the destination buffers, and, in early-exit mode, stops the graph
 * after the highest requested layer so layers above it and the lm_head are never computed.
 *
 * <p>Runs inside a native upcall: it never allocates, logs or throws. Problems are recorded as a code
 * plus two numbers and turned into an exception by {@link #checkAfterDecode} once llama_decode returned.
 */
final class ResidualTap {
    // ggml_tensor field offsets, from the generated layout (no per-call lookups)
    private static final long OFF_TYPE = ggml_tensor.type$offset();
    private static final long OFF_NE = ggml_tensor.ne$offset();
    private static final long OFF_NB = ggml_tensor.nb$offset();
    private static final long OFF_NAME = ggml_tensor.name$offset();
    /** All of memory, for field reads at raw addresses without creating segments in the upcall. */
    private static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    static final int OK = 0, ERR_TYPE = 1, ERR_WIDTH = 2, ERR_LAYOUT = 3, ERR_OVERFLOW = 4, ERR_THROWN = 5, ERR_UBATCH = 6;

    private final int[] layers;
    private final byte[][] names;       // "l_out-12\0" per layer
    private final boolean earlyExit;
    private final int maxLayer;
    private final int nEmbd;
    private final long rowBytes;
    private final MemorySegment staging; // [n_ubatch x n_embd] f32
    private final long stagingRows;
    private MemorySegment[] dest;        // per layer [capacity x n_embd] f32
    private long capacityRows;
    private final long[] rowsDone;

    private int error;
    private boolean exited;              // the early-exit layer of this ubatch was copied
    private long errA, errB;
    private Throwable thrown;
    private Runnable hook;               // test fault injection: runs before each copy, inside the upcall

    ResidualTap(int[] layers, boolean earlyExit, int nEmbd, MemorySegment staging, long stagingRows) {
        this.layers = layers.clone();
        this.names = new byte[layers.length][];
        int max = -1;
        for (int i = 0; i < layers.length; i++) {
            names[i] = ("l_out-" + layers[i] + "\0").getBytes(StandardCharsets.US_ASCII);
            max = Math.max(max, layers[i]);
        }
        this.maxLayer = max;
        this.earlyExit = earlyExit;
        this.nEmbd = nEmbd;
        this.rowBytes = 4L * nEmbd;
        this.staging = staging;
        this.stagingRows = stagingRows;
        this.rowsDone = new long[layers.length];
    }

    /** Points the tap at fresh destination buffers (one per layer) before a decode. */
    void reset(MemorySegment[] destPerLayer, long capacityRows, Runnable hook) {
        this.hook = hook;
        this.dest = destPerLayer;
        this.capacityRows = capacityRows;
        java.util.Arrays.fill(rowsDone, 0);
        error = OK;
        thrown = null;
    }

    long rowsDone(int layerIndex) { return rowsDone[layerIndex]; }

    /** Called before each llama_decode (the caller decodes one ubatch per call). */
    void startUbatch() { exited = false; }

    /** The ggml_backend_sched_eval_callback body. Must not throw. */
    boolean onEval(MemorySegment t, boolean ask) {
        try {
            // After the early exit, ggml's scheduler still runs every later split of the graph (a `false`
            // only ends the current split): with blocks above the capture layer on another backend (GPU
            // capture offload) it would compute all of them. So every later split is asked to stop at its
            // first node: "needed" -> one node computed -> false -> that split ends.
            if (exited) return ask;
            long addr = t.address();
            int li = match(addr);
            if (ask) return li >= 0 && error == OK;
            if (li < 0) return true;
            if (error != OK) return false;
            if (hook != null) hook.run();
            boolean more = copy(t, addr, li);
            if (!more && error == OK) exited = true;
            return more;
        } catch (Throwable e) {
            if (error == OK) { error = ERR_THROWN; thrown = e; }
            return false;
        }
    }

    private int match(long addr) {
        outer:
        for (int i = 0; i < names.length; i++) {
            byte[] n = names[i];
            for (int k = 0; k < n.length; k++) {
                if (ALL.get(JAVA_BYTE, addr + OFF_NAME + k) != n[k]) continue outer;
            }
            return i;
        }
        return -1;
    }

    private boolean copy(MemorySegment t, long addr, int li) {
        int type = ALL.get(JAVA_INT, addr + OFF_TYPE);
        long ne0 = ALL.get(JAVA_LONG, addr + OFF_NE);
        long ne1 = ALL.get(JAVA_LONG, addr + OFF_NE + 8);
        long ne2 = ALL.get(JAVA_LONG, addr + OFF_NE + 16);
        long ne3 = ALL.get(JAVA_LONG, addr + OFF_NE + 24);
        long nb0 = ALL.get(JAVA_LONG, addr + OFF_NB);
        long nb1 = ALL.get(JAVA_LONG, addr + OFF_NB + 8);
        if (type != 0) return fail(ERR_TYPE, type, 0);
        if (ne0 != nEmbd) return fail(ERR_WIDTH, ne0, nEmbd);
        if (nb0 != 4 || nb1 != rowBytes || ne2 != 1 || ne3 != 1) return fail(ERR_LAYOUT, nb1, ne2 * ne3);
        if (ne1 > stagingRows) return fail(ERR_UBATCH, ne1, stagingRows);
        long at = rowsDone[li];
        if (at + ne1 > capacityRows) return fail(ERR_OVERFLOW, at + ne1, capacityRows);
        long bytes = ne1 * rowBytes;
        LlamaH.ggml_backend_tensor_get(t, staging, 0L, bytes);
        MemorySegment.copy(staging, 0L, dest[li], at * rowBytes, bytes);
        rowsDone[li] = at + ne1;
        return !(earlyExit && layers[li] == maxLayer);
    }

    private boolean fail(int code, long a, long b) {
        if (error == OK) { error = code; errA = a; errB = b; }
        return false;
    }

    /** Throws what the upcall recorded, and checks that every token's row arrived. */
    void checkAfterDecode(long expectedRows) {
        switch (error) {
            case OK -> { }
            case ERR_TYPE -> throw new LlamaException("capture", 0, "l_out tensor has ggml type " + errA + ", expected F32");
            case ERR_WIDTH -> throw new LlamaException("capture", 0, "l_out tensor has ne[0]=" + errA + ", expected n_embd=" + errB);
            case ERR_LAYOUT -> throw new LlamaException("capture", 0, "l_out tensor is not a contiguous 2-D f32 matrix (nb[1]=" + errA + ")");
            case ERR_UBATCH -> throw new LlamaException("capture", 0, "ubatch of " + errA + " rows exceeds the staging buffer of " + errB);
            case ERR_OVERFLOW -> throw new LlamaException("capture", 0, "llama.cpp delivered " + errA + " rows for a batch of " + errB + " tokens");
            case ERR_THROWN -> throw new LlamaException("exception inside the eval callback", thrown);
            default -> throw new IllegalStateException("unknown tap error " + error);
        }
        for (int i = 0; i < layers.length; i++) {
            if (rowsDone[i] != expectedRows) {
                throw new LlamaException("capture", 0, "layer " + layers[i] + ": captured " + rowsDone[i]
                        + " rows for a batch of " + expectedRows + " tokens (is the layer inside the model?)");
            }
        }
    }
}
