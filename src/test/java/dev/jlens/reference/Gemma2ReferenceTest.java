package dev.jlens.reference;

import dev.jlens.toy.Gemma2Config;
import dev.jlens.toy.Gemma2Weights;
import dev.jlens.toy.ToyModels;
import dev.jlens.toy.Vocabulary;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class Gemma2ReferenceTest {
    /** Small enough to be fast, with GQA (4 heads on 2 kv heads). */
    private static Gemma2Config small(int nLayer, int window) {
        return new Gemma2Config(nLayer, 32, 4, 2, 8, 64, 400, 128, 1e-6f, 50f, 30f, window, 10000f);
    }

    private static Gemma2Weights weights(Gemma2Config c, long seed) {
        return ToyModels.generate(c, Vocabulary.build(List.of(), c.nVocab()), seed);
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @Test
    void appendingTokensDoesNotChangeEarlierPositions() {
        Gemma2Reference ref = new Gemma2Reference(weights(small(4, 3), 1));
        int[] prompt = {2, 17, 99, 5, 250, 31};
        int[] longer = {2, 17, 99, 5, 250, 31, 77, 8, 140};
        float[][] a = ref.residualAfterLayer(prompt, 3);
        float[][] b = ref.residualAfterLayer(longer, 3);
        for (int t = 0; t < prompt.length; t++) assertArrayEquals(a[t], b[t], "position " + t);
        // and the new tokens do see the old ones: changing an early token changes the last position
        int[] changed = longer.clone();
        changed[1] = 18;
        assertTrue(maxAbsDiff(b[8], ref.residualAfterLayer(changed, 3)[8]) > 1e-4);
    }

    @Test
    void slidingWindowLayerHidesKeysAtDistanceWindowAndBeyond() {
        // one layer: layer 0 is SWA in gemma2; window 2 means p1 sees p0 only if p1 - p0 < 2
        Gemma2Reference ref = new Gemma2Reference(weights(small(1, 2), 2));
        int[] base = {2, 40, 41, 42};
        float[][] r = ref.residualAfterLayer(base, 0);
        for (int changedPos = 0; changedPos < base.length - 1; changedPos++) {
            int[] alt = base.clone();
            alt[changedPos] = 123;
            float[][] ra = ref.residualAfterLayer(alt, 0);
            double last = maxAbsDiff(r[3], ra[3]);
            if (3 - changedPos >= 2) assertEquals(0.0, last, "distance " + (3 - changedPos) + " must be masked");
            else assertTrue(last > 1e-4, "distance 1 must be visible");
            assertTrue(maxAbsDiff(r[changedPos + 1], ra[changedPos + 1]) > 1e-4, "the next position sees it");
        }
    }

    @Test
    void oddLayersAttendToTheWholePrefix() {
        // layer 1 is dense: position 3 depends on token 0 through layer 1 even with window 1 in layer 0
        Gemma2Reference ref = new Gemma2Reference(weights(small(2, 1), 3));
        int[] base = {2, 40, 41, 42};
        int[] alt = {7, 40, 41, 42};
        assertEquals(0.0, maxAbsDiff(ref.residualAfterLayer(base, 0)[3], ref.residualAfterLayer(alt, 0)[3]));
        assertTrue(maxAbsDiff(ref.residualAfterLayer(base, 1)[3], ref.residualAfterLayer(alt, 1)[3]) > 1e-4);
    }

    @Test
    void ropeScoresDependOnlyOnPositionDifference() {
        SplittableRandom rnd = new SplittableRandom(4);
        int hd = 16;
        double[] q = new double[hd], k = new double[hd];
        for (int i = 0; i < hd; i++) { q[i] = rnd.nextDouble(-1, 1); k[i] = rnd.nextDouble(-1, 1); }
        double ref = score(q, k, 3, 0, hd);
        for (int shift : new int[] {1, 10, 500}) assertEquals(ref, score(q, k, 3 + shift, shift, hd), 1e-9);
        assertNotEquals(ref, score(q, k, 4, 0, hd), 1e-3);
        // rotation keeps the norm
        double[] v = q.clone();
        Gemma2Reference.ropeNeox(v, 0, hd, 77, 10000);
        assertEquals(Arrays.stream(q).map(x -> x * x).sum(), Arrays.stream(v).map(x -> x * x).sum(), 1e-12);
    }

    private static double score(double[] q, double[] k, int pq, int pk, int hd) {
        double[] a = q.clone(), b = k.clone();
        Gemma2Reference.ropeNeox(a, 0, hd, pq, 10000);
        Gemma2Reference.ropeNeox(b, 0, hd, pk, 10000);
        double s = 0;
        for (int i = 0; i < hd; i++) s += a[i] * b[i];
        return s;
    }

    @Test
    void ropePairsDimensionIWithIPlusHalfNeoxStyle() {
        double[] v = {1, 0, 0, 0};   // hd 4: pairs (0,2) at theta = pos, (1,3) at pos/100
        Gemma2Reference.ropeNeox(v, 0, 4, 1, 10000);
        assertArrayEquals(new double[] {Math.cos(1), 0, Math.sin(1), 0}, v, 1e-15);
        double[] w = {0, 1, 0, 0};
        Gemma2Reference.ropeNeox(w, 0, 4, 1, 10000);
        assertArrayEquals(new double[] {0, Math.cos(0.01), 0, Math.sin(0.01)}, w, 1e-15);
    }

    @Test
    void shiftingThePromptPositionsLeavesResidualsUnchanged() {
        Gemma2Reference ref = new Gemma2Reference(weights(small(3, 64), 5));
        int[] prompt = {2, 10, 200, 11, 12};
        float[][] a = ref.residualAfterLayer(prompt, 2, 0);
        float[][] b = ref.residualAfterLayer(prompt, 2, 37);
        for (int t = 0; t < prompt.length; t++) assertTrue(maxAbsDiff(a[t], b[t]) < 1e-4, "position " + t);
        // positions do matter: reordering the prompt changes the last residual
        int[] swapped = {2, 200, 10, 11, 12};
        assertTrue(maxAbsDiff(a[4], ref.residualAfterLayer(swapped, 2)[4]) > 1e-4);
    }

    @Test
    void groupedQueryHeadsShareKvHeadHOverGroupSize() {
        Gemma2Config gqa = small(1, 16);
        Gemma2Weights w = weights(gqa, 6);
        // the same model written as 4 kv heads: kv head h copies kv head h / 2 of the GQA model
        Gemma2Config mha = new Gemma2Config(1, 32, 4, 4, 8, 64, 400, 128, 1e-6f, 50f, 30f, 16, 10000f);
        Gemma2Weights.Layer l = w.layers().get(0);
        float[] k = expand(l.attnK(), 32, 8), v = expand(l.attnV(), 32, 8);
        Gemma2Weights.Layer ml = new Gemma2Weights.Layer(l.attnNorm(), l.attnQ(), k, v, l.attnOutput(), l.postAttnNorm(),
                l.ffnNorm(), l.ffnGate(), l.ffnUp(), l.ffnDown(), l.postFfwNorm());
        Gemma2Weights wm = new Gemma2Weights(mha, w.tokenEmbd(), w.outputNorm(), List.of(ml));
        int[] prompt = {2, 50, 51, 52};
        float[][] a = new Gemma2Reference(w).residualAfterLayer(prompt, 0);
        float[][] b = new Gemma2Reference(wm).residualAfterLayer(prompt, 0);
        for (int t = 0; t < prompt.length; t++) assertTrue(maxAbsDiff(a[t], b[t]) < 1e-5, "position " + t);
    }

    /** Rows of kv head j become rows of heads 2j and 2j+1. */
    private static float[] expand(float[] kv, int nEmbd, int hd) {
        int heads = kv.length / (nEmbd * hd);
        float[] out = new float[kv.length * 2];
        for (int h = 0; h < heads * 2; h++) System.arraycopy(kv, (h / 2) * hd * nEmbd, out, h * hd * nEmbd, hd * nEmbd);
        return out;
    }

    @Test
    void logitsAreSoftCappedAndTiedToTheEmbedding() {
        Gemma2Config c = small(2, 4);
        Gemma2Weights w = weights(c, 7);
        float[][] logits = new Gemma2Reference(w).logits(new int[] {2, 3, 4});
        assertEquals(400, logits[2].length);
        for (float[] row : logits) for (float v : row) assertTrue(Math.abs(v) < 30f);
        // scaling every embedding row scales the pre-cap logits; at x = 30 * atanh(y / 30) the cap is undone
        Gemma2Weights w2 = new Gemma2Weights(c, w.tokenEmbd().clone(), w.outputNorm(), w.layers());
        Arrays.fill(w2.tokenEmbd(), 0, 400 * 32, 0f);
        for (int tok : new int[] {2, 3, 4}) System.arraycopy(w.tokenEmbd(), tok * 32, w2.tokenEmbd(), tok * 32, 32);
        float[][] l2 = new Gemma2Reference(w2).logits(new int[] {2, 3, 4});
        assertEquals(0f, l2[0][100]);                       // a zeroed embedding row gives logit 0 (tied head)
        assertEquals(logits[0][3], l2[0][3], 1e-5);         // an untouched row gives the same logit
    }

    /**
     * One layer, n_embd 4, one head of dim 4, n_ff 2, two tokens: every step written out by hand from the
     * formulas in llama.cpp's gemma2 graph, independently of the reference's code structure.
     */
    @Test
    void handComputedOneLayerTinyModelMatches() {
        Gemma2Config c = new Gemma2Config(1, 4, 1, 1, 4, 2, 3, 16, 1e-6f, 50f, 30f, 8, 10000f);
        float[] emb = {0.5f, -1f, 0.25f, 2f, /* tok 1 */ 1f, 0f, -0.5f, 0.75f, /* tok 2 */ -1f, 1f, 1f, -1f};
        float[] attnNorm = {1f, 1.5f, 0.5f, 1f}, post = {1.1f, 0.9f, 1f, 1.2f}, ffnNorm = {1f, 1f, 2f, 1f}, postF = {0.8f, 1f, 1f, 1f};
        float[] wq = new float[16], wk = new float[16], wv = new float[16], wo = new float[16];
        for (int i = 0; i < 16; i++) {
            wq[i] = ((i * 7) % 5 - 2) * 0.3f;
            wk[i] = ((i * 3) % 7 - 3) * 0.2f;
            wv[i] = ((i * 5) % 3 - 1) * 0.5f;
            wo[i] = ((i * 11) % 4 - 1.5f) * 0.25f;
        }
        float[] gate = {0.5f, -0.5f, 1f, 0f, /* row 1 */ 0.25f, 0.25f, -1f, 2f};
        float[] up = {1f, 0f, 0f, -1f, /* row 1 */ 0.5f, 0.5f, 0.5f, 0.5f};
        float[] down = {1f, -1f, /* */ 0.5f, 0.5f, /* */ -2f, 1f, /* */ 0f, 1f};
        Gemma2Weights w = new Gemma2Weights(c, emb, new float[] {1, 1, 1, 1}, List.of(
                new Gemma2Weights.Layer(attnNorm, wq, wk, wv, wo, post, ffnNorm, gate, up, down, postF)));
        int[] toks = {2, 1};
        float[][] got = new Gemma2Reference(w).residualAfterLayer(toks, 0);

        double eps = 1e-6f;
        double[][] x = new double[2][4];
        for (int t = 0; t < 2; t++) for (int i = 0; i < 4; i++) x[t][i] = emb[toks[t] * 4 + i] * 2.0; // sqrt(4)
        double[][] q = new double[2][4], k = new double[2][4], v = new double[2][4];
        for (int t = 0; t < 2; t++) {
            double[] h = norm(x[t], attnNorm, eps);
            for (int o = 0; o < 4; o++) {
                for (int i = 0; i < 4; i++) {
                    q[t][o] += wq[o * 4 + i] * h[i];
                    k[t][o] += wk[o * 4 + i] * h[i];
                    v[t][o] += wv[o * 4 + i] * h[i];
                }
            }
            // RoPE at pos t: (0,2) by angle t, (1,3) by angle t * 10000^(-2/4) = t/100
            rot(q[t], 0, 2, t);
            rot(q[t], 1, 3, t / 100.0);
            rot(k[t], 0, 2, t);
            rot(k[t], 1, 3, t / 100.0);
            for (int i = 0; i < 4; i++) q[t][i] *= 0.5; // 1/sqrt(head_dim 4)
        }
        double[][] expected = new double[2][4];
        for (int t = 0; t < 2; t++) {
            double[] s = new double[t + 1];
            double z = 0;
            for (int j = 0; j <= t; j++) {
                double dot = q[t][0] * k[j][0] + q[t][1] * k[j][1] + q[t][2] * k[j][2] + q[t][3] * k[j][3];
                s[j] = Math.exp(50 * Math.tanh(dot / 50));
                z += s[j];
            }
            double[] a = new double[4];
            for (int j = 0; j <= t; j++) for (int i = 0; i < 4; i++) a[i] += s[j] / z * v[j][i];
            double[] o = new double[4];
            for (int r = 0; r < 4; r++) for (int i = 0; i < 4; i++) o[r] += wo[r * 4 + i] * a[i];
            double[] sa = norm(o, post, eps);
            for (int i = 0; i < 4; i++) sa[i] += x[t][i];
            double[] f = norm(sa, ffnNorm, eps);
            double[] act = new double[2];
            for (int r = 0; r < 2; r++) {
                double g = 0, u = 0;
                for (int i = 0; i < 4; i++) { g += gate[r * 4 + i] * f[i]; u += up[r * 4 + i] * f[i]; }
                act[r] = 0.5 * g * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (g + 0.044715 * g * g * g))) * u;
            }
            double[] dn = new double[4];
            for (int r = 0; r < 4; r++) dn[r] = down[r * 2] * act[0] + down[r * 2 + 1] * act[1];
            double[] dnn = norm(dn, postF, eps);
            for (int i = 0; i < 4; i++) expected[t][i] = dnn[i] + sa[i];
        }
        for (int t = 0; t < 2; t++) for (int i = 0; i < 4; i++) assertEquals(expected[t][i], got[t][i], 1e-5, "t=" + t + " i=" + i);
    }

    private static double[] norm(double[] x, float[] w, double eps) {
        double ms = (x[0] * x[0] + x[1] * x[1] + x[2] * x[2] + x[3] * x[3]) / 4;
        double[] y = new double[4];
        for (int i = 0; i < 4; i++) y[i] = x[i] / Math.sqrt(ms + eps) * w[i];
        return y;
    }

    private static void rot(double[] v, int i, int j, double angle) {
        double a = v[i], b = v[j];
        v[i] = a * Math.cos(angle) - b * Math.sin(angle);
        v[j] = a * Math.sin(angle) + b * Math.cos(angle);
    }

    @Test
    void activationsStayOrderOneThroughTwentySixLayers() {
        Gemma2Config c = small(26, 4);
        Gemma2Reference ref = new Gemma2Reference(weights(c, 8));
        float[][] r = ref.residualAfterLayer(new int[] {2, 100, 101, 102, 103, 104}, 25);
        for (float[] row : r) {
            double rms = Math.sqrt(new ArrayList<Float>() {{ for (float f : row) add(f * f); }}.stream().mapToDouble(Float::doubleValue).sum() / row.length);
            assertTrue(rms > 0.5 && rms < 20, "rms " + rms);
            for (float f : row) assertTrue(Float.isFinite(f));
        }
    }

    @Test
    void invalidInputsAreRejected() {
        Gemma2Reference ref = new Gemma2Reference(weights(small(2, 4), 9));
        assertThrows(IllegalArgumentException.class, () -> ref.residualAfterLayer(new int[] {2, 400}, 0));
        assertThrows(IllegalArgumentException.class, () -> ref.residualAfterLayer(new int[] {2}, 2));
        assertThrows(IllegalArgumentException.class, () -> ref.residualAfterLayer(new int[0], 0));
    }
}
