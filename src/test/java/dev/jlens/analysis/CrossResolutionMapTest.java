package dev.jlens.analysis;

import dev.jlens.analysis.CrossResolutionMap.AnchorSummary;
import dev.jlens.api.Classification;
import dev.jlens.api.Decision;
import dev.jlens.analysis.CrossResolutionMap.Pair;
import dev.jlens.analysis.CrossResolutionMap.Result;
import dev.jlens.analysis.CrossResolutionMap.Thresholds;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Synthetic two-resolution data over 40 prompts (20 target, 20 control). Coarse anchor 100 has activation
 * a_i = 1 + i % 4 on target prompts and 0 on control. Fine features:
 * <ul>
 *   <li>10 = 0.8 a (r = 1), decoder e0 + 0.5 e2: cos with anchor e0 + e1 = 1 / (√2 √1.25) = 0.632 -> MATCH</li>
 *   <li>11 = a + 0.1 (i % 3) (r = 0.998), decoder e1: cos = 1/√2 = 0.707 -> MATCH</li>
 *   <li>12 = a * (1.5 on even i, else 1) (+0.3 on a few control prompts) (r = 0.964), decoder e0 + e1 + e4:
 *       cos = 2 / (√2 √3) = 0.816 -> MATCH</li>
 *   <li>20 = 0.5 a (r = 1), decoder e3: cos 0 -> CO_OCCURRING</li>
 *   <li>21 = (7 i) % 5 (r = 0 exactly: balanced within every a-level), decoder e0: cos 0.707 -> GEOMETRIC_ONLY</li>
 *   <li>22 = 1 if i % 10 &lt; 5 (r = -0.034), decoder e5: cos 0 -> UNRELATED</li>
 * </ul>
 * Coarse anchor 200 never fires (zero variance -> correlation 0) and has decoder e6.
 */
class CrossResolutionMapTest {
    private static final int N = 40;
    private static final int D = 8;

    private static float[] e(int... idx) {
        float[] v = new float[D];
        for (int i : idx) v[i] += 1f;
        return v;
    }

    private static final Map<Integer, float[]> COARSE_DEC = Map.of(100, e(0, 1), 200, e(6));
    private static final Map<Integer, float[]> FINE_DEC = new HashMap<>();
    static {
        float[] f10 = e(0); f10[2] = 0.5f;
        FINE_DEC.put(10, f10);
        FINE_DEC.put(11, e(1));
        FINE_DEC.put(12, e(0, 1, 4));
        FINE_DEC.put(20, e(3));
        FINE_DEC.put(21, e(0));
        FINE_DEC.put(22, e(5));
    }

    private static double anchor(int i) { return i < 20 ? 1 + i % 4 : 0; }

    private static PromptActivations coarse(int i) {
        Label label = i < 20 ? Label.TARGET : Label.CONTROL;
        return anchor(i) > 0
                ? new PromptActivations(i, label, null, new int[] {100, 7}, new float[] {(float) anchor(i), 3f})
                : new PromptActivations(i, label, null, new int[] {7}, new float[] {3f});
    }

    private static PromptActivations fine(int i) {
        Label label = i < 20 ? Label.TARGET : Label.CONTROL;
        double a = anchor(i);
        double[] vals = {
                0.8 * a,
                a + 0.1 * (i % 3),
                a * (i % 2 == 0 ? 1.5 : 1.0) + (i >= 20 && i % 5 == 0 ? 0.3 : 0),
                0.5 * a,
                (7 * i) % 5,
                i % 10 < 5 ? 1 : 0};
        int[] ids = {10, 11, 12, 20, 21, 22};
        List<Integer> keep = new ArrayList<>();
        for (int k = 0; k < ids.length; k++) if (vals[k] > 0) keep.add(k);
        int[] f = new int[keep.size()];
        float[] v = new float[keep.size()];
        for (int k = 0; k < f.length; k++) { f[k] = ids[keep.get(k)]; v[k] = (float) vals[keep.get(k)]; }
        return new PromptActivations(i, label, null, f, v);
    }

    private static Result run(int[] anchors, int[] fines) throws IOException {
        CrossResolutionMap.Accumulator acc = new CrossResolutionMap.Accumulator(anchors, fines);
        for (int i = 0; i < N; i++) acc.add(coarse(i), fine(i));
        return CrossResolutionMap.compute(acc, COARSE_DEC::get, FINE_DEC::get, Thresholds.DEFAULT);
    }

    private static Pair pair(Result r, int anchor, int fine) {
        return r.pairs().stream().filter(p -> p.anchor() == anchor && p.fine() == fine).findFirst().orElseThrow();
    }

    @Test
    void cosineOfHandVectors() {
        // (1,1,0).(1,0,0) = 1; norms √2 and 1 -> 1/√2
        assertEquals(1 / Math.sqrt(2), CrossResolutionMap.cosine(new float[] {1, 1, 0}, new float[] {1, 0, 0}), 1e-15);
        assertEquals(-1.0, CrossResolutionMap.cosine(new float[] {2, 0}, new float[] {-3, 0}), 0);
        assertEquals(0.0, CrossResolutionMap.cosine(new float[] {0, 0}, new float[] {1, 1}), 0);
        assertThrows(IllegalArgumentException.class,
                () -> CrossResolutionMap.cosine(new float[] {1, 2}, new float[] {1, 2, 3}));
    }

    @Test
    void threeMatchingFineFeaturesGiveGoAndDecoysAreClassified() throws IOException {
        Result r = run(new int[] {100, 200}, new int[] {10, 11, 12, 20, 21, 22});
        assertEquals(Classification.MATCH, pair(r, 100, 10).classification());
        assertEquals(Classification.MATCH, pair(r, 100, 11).classification());
        assertEquals(Classification.MATCH, pair(r, 100, 12).classification());
        assertEquals(Classification.CO_OCCURRING, pair(r, 100, 20).classification());
        assertEquals(Classification.GEOMETRIC_ONLY, pair(r, 100, 21).classification());
        assertEquals(Classification.UNRELATED, pair(r, 100, 22).classification());
        assertEquals(1.0, pair(r, 100, 10).correlation(), 1e-6);
        assertEquals(1 / Math.sqrt(2 * 1.25), pair(r, 100, 10).cosine(), 1e-7);
        assertEquals(0.0, pair(r, 100, 21).correlation(), 1e-6);

        assertEquals(Decision.GO, r.verdict().decision());
        assertEquals(100, r.verdict().anchor());
        assertEquals(3, r.verdict().matches());
        assertTrue(r.verdict().reason().contains("100"), r.verdict().reason());

        AnchorSummary a100 = r.anchors().get(0);
        assertEquals(3, a100.matches());
        assertEquals(1, a100.coOccurring());
        assertEquals(1, a100.geometricOnly());
        // strength = r x cos: f10 1 x 0.632, f11 0.998 x 0.707 = 0.706, f12 0.964 x 0.816 = 0.787
        assertEquals(12, a100.strongest().fine());
        assertEquals(3, r.count(Classification.MATCH));
    }

    @Test
    void twoMatchingFineFeaturesGiveNoGo() throws IOException {
        Result r = run(new int[] {100, 200}, new int[] {10, 11, 20, 21, 22});
        assertEquals(Decision.NO_GO, r.verdict().decision());
        assertEquals(100, r.verdict().anchor());
        assertEquals(2, r.verdict().matches());
        assertEquals(3, r.verdict().required());
        assertEquals(11, r.anchors().get(0).strongest().fine());
    }

    @Test
    void silentAnchorCorrelatesZeroAndHasNoStrongestMatch() throws IOException {
        Result r = run(new int[] {100, 200}, new int[] {10, 11, 12, 20, 21, 22});
        for (Pair p : r.pairs()) {
            assertFalse(Double.isNaN(p.correlation()));
            if (p.anchor() == 200) assertEquals(0.0, p.correlation(), 0);
        }
        AnchorSummary a200 = r.anchors().get(1);
        assertEquals(200, a200.anchor());
        assertEquals(0, a200.matches());
        assertNull(a200.strongest());
    }

    @Test
    void thresholdsAreConfigurable() throws IOException {
        CrossResolutionMap.Accumulator acc = new CrossResolutionMap.Accumulator(new int[] {100}, new int[] {10, 11, 12});
        for (int i = 0; i < N; i++) acc.add(coarse(i), fine(i));
        // demanding cosine > 0.8 leaves only f12 (0.816)
        Result r = CrossResolutionMap.compute(acc, COARSE_DEC::get, FINE_DEC::get, new Thresholds(0.8, 0.5, 1));
        assertEquals(1, r.anchors().get(0).matches());
        assertEquals(Decision.GO, r.verdict().decision());
        assertEquals(Classification.CO_OCCURRING, pair(r, 100, 10).classification());
    }

    @Test
    void tableReplayEqualsStreamingAccumulator() throws IOException {
        FeatureTable c = new FeatureTable(), f = new FeatureTable();
        for (int i = 0; i < N; i++) { c.add(coarse(i)); f.add(fine(i)); }
        int[] anchors = {100, 200};
        int[] fines = {10, 11, 12, 20, 21, 22};
        Result fromTables = CrossResolutionMap.compute(anchors, fines, c, f, COARSE_DEC::get, FINE_DEC::get, Thresholds.DEFAULT);
        Result streamed = run(anchors, fines);
        assertEquals(streamed.pairs().size(), fromTables.pairs().size());
        for (int k = 0; k < streamed.pairs().size(); k++) {
            assertEquals(streamed.pairs().get(k).correlation(), fromTables.pairs().get(k).correlation(), 1e-12);
            assertEquals(streamed.pairs().get(k).classification(), fromTables.pairs().get(k).classification());
        }
        assertEquals(streamed.verdict(), fromTables.verdict());
    }

    @Test
    void mismatchedPromptsAndBadInputsAreRejected() {
        CrossResolutionMap.Accumulator acc = new CrossResolutionMap.Accumulator(new int[] {100}, new int[] {10});
        assertThrows(IllegalArgumentException.class, () -> acc.add(coarse(0), fine(1)));
        assertThrows(IllegalArgumentException.class, () -> new CrossResolutionMap.Accumulator(new int[] {1, 1}, new int[] {2}));
        assertThrows(IllegalArgumentException.class, () -> new Thresholds(0.3, 0.5, 0));
        assertThrows(IllegalArgumentException.class, () -> new Thresholds(Double.NaN, 0.5, 3));
    }
}
