package dev.jlens.sae;

import java.util.Arrays;

/**
 * Top-k selection of one token's active (feature, value) pairs, as SAELens' TopK activation: the k largest
 * pre-activations, then ReLU. The pairs handed in are already those above 0 (the encoders run the ReLU bound 0), so
 * ReLU drops nothing more and the result is the k largest of them; fewer than k positives keep all. Ties at the k-th
 * value keep the lower feature index (torch.topk leaves the order of ties unspecified). Plain Java: the encoders'
 * scalar and vector twins share it.
 */
final class TopK {
    private TopK() {}

    /**
     * Keeps the k largest values of {@code idx[0..n)}/{@code val[0..n)} (indices ascending on input and output).
     * Returns the new count; the arrays are rewritten in place.
     */
    static int select(int[] idx, float[] val, int n, int k) {
        if (n <= k) return n;
        // one sortable key per pair: values are > 0, so their bits order like the values; descending value first,
        // then ascending index
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            int bits = Float.floatToRawIntBits(val[i]);
            if (!(val[i] > 0)) throw new IllegalArgumentException("top-k input must be positive, got " + val[i] + " for feature " + idx[i]);
            keys[i] = ((long) (Integer.MAX_VALUE - bits) << 32) | (idx[i] & 0xFFFFFFFFL);
        }
        Arrays.sort(keys);
        int[] keptIdx = new int[k];
        for (int i = 0; i < k; i++) keptIdx[i] = (int) keys[i];
        Arrays.sort(keptIdx);
        // values by index: both lists are ascending in index, so one merge pass finds them
        float[] keptVal = new float[k];
        for (int i = 0, j = 0; i < k; i++) {
            while (idx[j] != keptIdx[i]) j++;
            keptVal[i] = val[j];
        }
        System.arraycopy(keptIdx, 0, idx, 0, k);
        System.arraycopy(keptVal, 0, val, 0, k);
        return k;
    }
}
