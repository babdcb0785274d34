package dev.jlens.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Compute kernels of the SAE engine. Two implementations: {@link ScalarKernels} (plain loops, the
 * reference) and a Vector API one chosen by {@link KernelProvider}. Weight matrices are read in place
 * from (mapped) segments; biases and thresholds are little-endian f32 segments.
 */
public interface Kernels {
    /** Implementation name for logs ("scalar", "panama(256-bit)"). */
    String name();

    float dot(float[] a, float[] b, int n);

    /** Cosine similarity; 0 when either vector is all zero (no direction to compare). */
    default float cosine(float[] a, float[] b, int n) {
        double ab = dot(a, b, n), aa = dot(a, a, n), bb = dot(b, b, n);
        if (aa == 0 || bb == 0) return 0f;
        return (float) (ab / Math.sqrt(aa * bb));
    }

    /**
     * Fused JumpReLU over one column tile: for every token t of the block and column c in [c0, c1),
     * pre = sum_k x[t*dIn+k] * W[k][c] + bias[c], and (c, pre) is appended to {@code out} for token t
     * when pre > threshold[c] (strict). Columns are appended in ascending order. The dense tile lives
     * only in {@code acc} (at least nTokens * (c1 - c0) floats), so it stays in cache.
     *
     * <p>Summation order is k ascending in both implementations; they differ only in fused vs
     * separate multiply-add rounding.
     */
    void encodeTile(float[] x, int nTokens, Weights w, MemorySegment bias, MemorySegment threshold,
                    int c0, int c1, float[] acc, ActiveBuffer out);

    /**
     * Sparse decode of one token: out[d] = bias[d] + sum_j values[off+j] * W[indices[off+j]][d] for
     * j in [0, n). W is [d_sae x d_in]; out has at least d_in elements.
     */
    void decode(int[] indices, float[] values, int off, int n, Weights w, MemorySegment bias, float[] out);

    /**
     * Sparse rows times a 0/1 matrix, accumulated: for k = 0, 1, ... (in that order) and every p in [0, n),
     * acc[p] += values[k] * labels[rows[k] * stride + p]. With 0/1 labels every product is exact (a value or
     * zero), so fused and separate multiply-add give the same sums: both implementations are bit-identical.
     * Used by the permutation test (one column of {@code labels} per random relabeling).
     */
    void sparseRowSum(int[] rows, float[] values, int count, double[] labels, int stride, double[] acc, int n);
}
