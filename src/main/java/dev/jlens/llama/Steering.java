package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * An open steering scope: a control vector added at one layer's output (llama_set_adapter_cvec with
 * il_start = il_end = layer). llama.cpp's buffer starts at layer 1 (layer L at offset (L-1)*n_embd) and
 * silently skips layers the buffer is too short for, so the full [n_layer-1 x n_embd] buffer is always
 * passed, zero except at the steered layer. Closing clears the control vector (data = NULL).
 */
public final class Steering implements AutoCloseable {
    private final Context ctx;
    private final int layer;
    private final float[] vector;
    private boolean closed;

    private Steering(Context ctx, int layer, float[] vector) {
        this.ctx = ctx;
        this.layer = layer;
        this.vector = vector;
    }

    static Steering apply(Context ctx, float[] vector, int layer) {
        Objects.requireNonNull(vector, "vector");
        Model m = ctx.model();
        int nEmbd = m.nEmbd(), nLayer = m.nLayer();
        if (vector.length != nEmbd) {
            throw new IllegalArgumentException("steering vector has " + vector.length + " values, the model's n_embd is " + nEmbd);
        }
        if (layer < 1 || layer >= nLayer) {
            throw new IllegalArgumentException("steering layer " + layer + " is out of range: llama.cpp control vectors cover layers 1.." + (nLayer - 1));
        }
        for (int i = 0; i < vector.length; i++) {
            if (!Float.isFinite(vector[i])) throw new IllegalArgumentException("steering vector[" + i + "] is " + vector[i]);
        }
        long len = (long) nEmbd * (nLayer - 1);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(JAVA_FLOAT, len); // zero-filled
            MemorySegment.copy(vector, 0, buf, JAVA_FLOAT, (long) (layer - 1) * nEmbd * 4, nEmbd);
            int rc = LlamaH.llama_set_adapter_cvec(ctx.handle(), buf, len, nEmbd, layer, layer);
            Status.checkZero("llama_set_adapter_cvec", rc, "could not apply the control vector at layer " + layer);
        }
        return new Steering(ctx, layer, vector.clone());
    }

    public int layer() { return layer; }
    public float[] vector() { return vector.clone(); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (ctx.isClosed()) return;
        ctx.exclusive(() -> {
            int rc = LlamaH.llama_set_adapter_cvec(ctx.handle(), MemorySegment.NULL, 0, ctx.model().nEmbd(), -1, -1);
            ctx.steeringClosed(this);
            Status.checkZero("llama_set_adapter_cvec", rc, "could not clear the control vector");
            return null;
        });
    }
}
