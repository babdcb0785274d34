package dev.jlens.kernels;

import java.util.Arrays;

/** Per-token growable lists of active (feature, value) pairs, appended in ascending feature order. */
public final class ActiveBuffer {
    private final int[][] idx;
    private final float[][] val;
    private final int[] n;

    public ActiveBuffer(int nTokens) {
        idx = new int[nTokens][8];
        val = new float[nTokens][8];
        n = new int[nTokens];
    }

    public int nTokens() { return n.length; }

    public void add(int token, int feature, float value) {
        int k = n[token];
        if (k == idx[token].length) {
            idx[token] = Arrays.copyOf(idx[token], k * 2);
            val[token] = Arrays.copyOf(val[token], k * 2);
        }
        idx[token][k] = feature;
        val[token][k] = value;
        n[token] = k + 1;
    }

    public int count(int token) { return n[token]; }

    public int[] indices(int token) { return idx[token]; }

    public float[] values(int token) { return val[token]; }
}
