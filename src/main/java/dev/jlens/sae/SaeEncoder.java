package dev.jlens.sae;

import java.lang.foreign.MemorySegment;

/**
 * Encodes residual-stream activations into sparse SAE codes. Implementations: {@link ScalarSaeEncoder}
 * (reference), {@link VectorSaeEncoder}; the native layer adds a ggml one. Chosen via
 * {@link SaeEncoders#create(Sae, String)}. An encoder never materialises a dense [tokens x d_sae] result.
 */
public interface SaeEncoder extends AutoCloseable {
    /** "scalar", "vector", "ggml", ... */
    String kind();

    Sae sae();

    /**
     * @param x f32 [nTokens x d_in], row-major, little-endian (a heap segment over a float[] works)
     * @return per token the active (feature, value) pairs, features ascending
     */
    SparseCodes encode(MemorySegment x, int nTokens);

    default SparseCodes encode(float[] x, int nTokens) {
        return encode(MemorySegment.ofArray(x), nTokens);
    }

    /** Releases threads or native buffers; the Sae stays open (it is owned by the caller). */
    @Override
    void close();
}
