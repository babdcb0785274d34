package dev.jlens.sae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The f64 reference of the SAELens encodes (jumprelu_sae.py, standard_sae.py, topk_sae.py) and the comparison rule
 * of the kernel parity tests: a decision whose pre-activation lies within the f32 rounding bound
 * tol = (d_in+2)·2^-24·(Σ|x_k W_kc| + |b_c|) of its bound (the threshold, 0, or the top-k cut) may go either way
 * and is counted, not compared; everything else must agree exactly on the active set and within tol on the value.
 */
final class SaeReference {
    private SaeReference() {}

    /** Weights in C order: W_enc [d_in][d_sae], W_dec [d_sae][d_in]. {@code thr} null for standard/topk. */
    record Weights(int dIn, int dSae, float[] wEnc, float[] wDec, float[] bEnc, float[] bDec, float[] thr) {
        float[] wEncT() {
            float[] t = new float[wEnc.length];
            for (int k = 0; k < dIn; k++) for (int f = 0; f < dSae; f++) t[f * dIn + k] = wEnc[k * dSae + f];
            return t;
        }

        float[] wDecT() {
            float[] t = new float[wDec.length];
            for (int f = 0; f < dSae; f++) for (int k = 0; k < dIn; k++) t[k * dSae + f] = wDec[f * dIn + k];
            return t;
        }
    }

    static Weights random(int dIn, int dSae, long seed, boolean withThreshold, double negativeThresholds) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[dIn * dSae], d = new float[dSae * dIn], b = new float[dSae], bd = new float[dIn];
        float[] th = withThreshold ? new float[dSae] : null;
        for (int i = 0; i < w.length; i++) w[i] = (float) (gauss(r) / Math.sqrt(dIn));
        for (int f = 0; f < dSae; f++) {
            double n = 0;
            for (int k = 0; k < dIn; k++) { d[f * dIn + k] = (float) gauss(r); n += d[f * dIn + k] * (double) d[f * dIn + k]; }
            for (int k = 0; k < dIn; k++) d[f * dIn + k] = (float) (d[f * dIn + k] / Math.sqrt(n));
            b[f] = (float) (0.05 * gauss(r));
            if (th != null) th[f] = (float) (r.nextDouble() < negativeThresholds ? -Math.abs(0.3 * gauss(r)) : Math.abs(0.3 * gauss(r)));
        }
        for (int k = 0; k < dIn; k++) bd[k] = (float) (0.1 * gauss(r));
        if (th != null && dSae > 2) th[1] = 0f; // an exact zero threshold: plain ReLU
        return new Weights(dIn, dSae, w, d, b, bd, th);
    }

    static float[] inputs(int n, int dIn, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * dIn];
        for (int i = 0; i < x.length; i++) x[i] = (float) gauss(r);
        return x;
    }

    static double gauss(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** pre[t][f] in f64 and the tolerance band tol[t][f]; {@code bDecApplied}: subtract b_dec from x first. */
    static double[][][] pre(Weights w, float[] x, int n, boolean bDecApplied) {
        double[][] pre = new double[n][w.dSae()], tol = new double[n][w.dSae()];
        for (int t = 0; t < n; t++)
            for (int f = 0; f < w.dSae(); f++) {
                double s = w.bEnc()[f], mag = Math.abs(w.bEnc()[f]);
                for (int k = 0; k < w.dIn(); k++) {
                    // the encoders subtract in f32, as SAELens does in the SAE's dtype
                    float xin = bDecApplied ? x[t * w.dIn() + k] - w.bDec()[k] : x[t * w.dIn() + k];
                    double p = (double) xin * w.wEnc()[k * w.dSae() + f];
                    s += p;
                    mag += Math.abs(p);
                }
                pre[t][f] = s;
                tol[t][f] = (w.dIn() + 2) * 0x1p-24 * mag;
            }
        return new double[][][] {pre, tol};
    }

    /**
     * Compares codes with the reference of {@code architecture}; {@code expected} (may be null) is another
     * implementation's dense codes (numpy's) that must agree the same way. Returns {compared, ties}.
     */
    static int[] compare(SparseCodes codes, double[][] pre, double[][] tol, String architecture, float[] thr, int k, float[][] expected) {
        int compared = 0, ties = 0, n = pre.length, dSae = pre[0].length;
        assertEquals(n, codes.nTokens());
        for (int t = 0; t < n; t++) {
            float[] dense = new float[dSae];
            boolean[] on = new boolean[dSae];
            int[] idx = codes.indices(t);
            float[] val = codes.values(t);
            for (int i = 0; i < idx.length; i++) { dense[idx[i]] = val[i]; on[idx[i]] = true; }
            double[] bound = new double[dSae];
            if ("topk".equals(architecture)) {
                // the k-th largest positive pre-activation is the cut; below k positives every positive fires
                double[] pos = Arrays.stream(pre[t]).filter(v -> v > 0).sorted().toArray();
                double cut = pos.length <= k ? 0 : (pos[pos.length - k] + pos[pos.length - k - 1]) / 2;
                assertTrue(idx.length <= k, "token " + t + ": " + idx.length + " active > k=" + k);
                Arrays.fill(bound, cut);
            } else {
                for (int f = 0; f < dSae; f++) bound[f] = "jumprelu".equals(architecture) ? Math.max(thr[f], 0) : 0;
            }
            for (int f = 0; f < dSae; f++) {
                if (Math.abs(pre[t][f] - bound[f]) <= 2 * tol[t][f]) { ties++; continue; }
                compared++;
                boolean want = pre[t][f] > bound[f];
                assertEquals(want, on[f], architecture + ": gate differs at token " + t + " feature " + f + " (pre " + pre[t][f] + ", bound " + bound[f] + ")");
                if (want) assertEquals(pre[t][f], dense[f], tol[t][f], architecture + ": value at token " + t + " feature " + f);
                if (expected != null) {
                    assertEquals(want, expected[t][f] != 0f, "numpy's gate at token " + t + " feature " + f);
                    if (want) assertEquals(expected[t][f], dense[f], 2 * tol[t][f], "numpy's value at token " + t + " feature " + f);
                }
            }
        }
        return new int[] {compared, ties};
    }

    /** Whether two encodings are bit-identical. */
    static void assertSameCodes(SparseCodes a, SparseCodes b, String what) {
        assertEquals(a.nTokens(), b.nTokens(), what);
        for (int t = 0; t < a.nTokens(); t++) {
            assertTrue(Arrays.equals(a.indices(t), b.indices(t)), what + ": indices differ at token " + t);
            assertTrue(Arrays.equals(a.values(t), b.values(t)), what + ": values differ at token " + t);
        }
    }
}
