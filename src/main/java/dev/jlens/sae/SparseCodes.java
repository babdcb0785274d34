package dev.jlens.sae;

import java.util.Arrays;
import java.util.List;

/**
 * Sparse SAE activations of a sequence of tokens in CSR form: token t's active features are
 * indices[offsets[t] .. offsets[t+1]) (ascending) with the matching values. Immutable; append and
 * merge return new instances.
 */
public final class SparseCodes {
    private final long[] offsets;
    private final int[] indices;
    private final float[] values;
    private final int dSae;

    public SparseCodes(int dSae, long[] offsets, int[] indices, float[] values) {
        if (dSae <= 0) throw new IllegalArgumentException("dSae must be > 0: " + dSae);
        if (offsets.length < 1 || offsets[0] != 0) throw new IllegalArgumentException("offsets must start with 0");
        if (indices.length != values.length) throw new IllegalArgumentException("indices/values lengths differ: " + indices.length + " vs " + values.length);
        if (offsets[offsets.length - 1] != indices.length)
            throw new IllegalArgumentException("last offset " + offsets[offsets.length - 1] + " != nnz " + indices.length);
        for (int t = 0; t + 1 < offsets.length; t++) {
            if (offsets[t + 1] < offsets[t]) throw new IllegalArgumentException("offsets decrease at token " + t);
            for (long i = offsets[t]; i < offsets[t + 1]; i++) {
                int f = indices[(int) i];
                if (f < 0 || f >= dSae) throw new IllegalArgumentException("token " + t + ": feature " + f + " outside [0, " + dSae + ")");
                if (i > offsets[t] && indices[(int) i - 1] >= f) throw new IllegalArgumentException("token " + t + ": indices not strictly ascending at " + f);
            }
        }
        this.dSae = dSae;
        this.offsets = offsets;
        this.indices = indices;
        this.values = values;
    }

    /** Codes of no tokens. */
    public static SparseCodes empty(int dSae) {
        return new SparseCodes(dSae, new long[] {0}, new int[0], new float[0]);
    }

    /** From per-token arrays (as produced by the encoders). */
    public static SparseCodes of(int dSae, int[][] idx, float[][] val) {
        long[] off = new long[idx.length + 1];
        for (int t = 0; t < idx.length; t++) off[t + 1] = off[t] + idx[t].length;
        int[] i = new int[Math.toIntExact(off[idx.length])];
        float[] v = new float[i.length];
        for (int t = 0; t < idx.length; t++) {
            System.arraycopy(idx[t], 0, i, (int) off[t], idx[t].length);
            System.arraycopy(val[t], 0, v, (int) off[t], val[t].length);
        }
        return new SparseCodes(dSae, off, i, v);
    }

    public int dSae() { return dSae; }

    public int nTokens() { return offsets.length - 1; }

    public long nnz() { return indices.length; }

    public int l0(int t) { return (int) (offsets[t + 1] - offsets[t]); }

    public int[] indices(int t) { return Arrays.copyOfRange(indices, (int) offsets[t], (int) offsets[t + 1]); }

    public float[] values(int t) { return Arrays.copyOfRange(values, (int) offsets[t], (int) offsets[t + 1]); }

    /** Position of token t's first pair in the flat arrays (for allocation-free loops). */
    public long offset(int t) { return offsets[t]; }

    /** The feature of the pair at flat position i (see {@link #offset}). */
    public int indexAt(long i) { return indices[(int) i]; }

    /** The value of the pair at flat position i (see {@link #offset}). */
    public float valueAt(long i) { return values[(int) i]; }

    int[] flatIndices() { return indices; }

    float[] flatValues() { return values; }

    /** Activation of feature f at token t (0 when inactive). */
    public float value(int t, int f) {
        int from = (int) offsets[t], to = (int) offsets[t + 1];
        int k = Arrays.binarySearch(indices, from, to, f);
        return k >= 0 ? values[k] : 0f;
    }

    /** These tokens followed by {@code more}'s. */
    public SparseCodes append(SparseCodes more) {
        return merge(List.of(this, more));
    }

    /** Concatenates token sequences; all parts must share d_sae. */
    public static SparseCodes merge(List<SparseCodes> parts) {
        if (parts.isEmpty()) throw new IllegalArgumentException("nothing to merge");
        int d = parts.get(0).dSae;
        int tokens = 0;
        long nnz = 0;
        for (SparseCodes p : parts) {
            if (p.dSae != d) throw new IllegalArgumentException("d_sae differs: " + d + " vs " + p.dSae);
            tokens += p.nTokens();
            nnz += p.nnz();
        }
        long[] off = new long[tokens + 1];
        int[] idx = new int[Math.toIntExact(nnz)];
        float[] val = new float[idx.length];
        int t = 0;
        long base = 0;
        for (SparseCodes p : parts) {
            for (int i = 0; i < p.nTokens(); i++) off[++t] = base + p.offsets[i + 1];
            System.arraycopy(p.indices, 0, idx, (int) base, p.indices.length);
            System.arraycopy(p.values, 0, val, (int) base, p.values.length);
            base += p.nnz();
        }
        return new SparseCodes(d, off, idx, val);
    }
}
