package dev.jlens.analysis;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 16 target prompts in 4 facets of 4, 16 control prompts. Anchor 0 fires on every target prompt. Fine features:
 * 10 a near-duplicate (every target prompt), 20 cuisine only, 30 one prompt of each facet, 40 cuisine only but with
 * an orthogonal decoder, 50 two prompts only, 60 cuisine only but weak.
 */
class FacetSplitTest {
    static final String[] FACETS = {"cuisine", "geography", "history", "sport"};
    static final Map<Integer, float[]> DECODER = new HashMap<>();

    static {
        DECODER.put(0, new float[] {1, 0, 0, 0});
        DECODER.put(10, new float[] {0.8f, 0.6f, 0, 0});
        DECODER.put(20, new float[] {0.6f, 0, 0.8f, 0});
        DECODER.put(30, new float[] {0.6f, 0, 0, 0.8f});
        DECODER.put(40, new float[] {0, 0, 0, 1});
        DECODER.put(50, new float[] {0.7f, 0.7f, 0, 0});
        DECODER.put(60, new float[] {0.6f, 0, 0.8f, 0});
    }

    static FeatureTable[] tables() {
        FeatureTable coarse = new FeatureTable(), fine = new FeatureTable();
        for (int p = 0; p < 32; p++) {
            boolean target = p < 16;
            String facet = target ? FACETS[p / 4] : null;
            Label l = target ? Label.TARGET : Label.CONTROL;
            List<Integer> cf = new ArrayList<>(), ff = new ArrayList<>();
            List<Float> cv = new ArrayList<>(), fv = new ArrayList<>();
            if (target) {
                cf.add(0); cv.add(5f + 0.25f * (p % 3));
                ff.add(10); fv.add(4f + 0.25f * (p % 3));
                if (p < 4) { ff.add(20); fv.add(7f + p); ff.add(40); fv.add(3f); ff.add(60); fv.add(0.2f); }
                if (p % 4 == 1) { ff.add(30); fv.add(2f); }
                if (p == 5 || p == 9) { ff.add(50); fv.add(3f); }
            } else if (p == 20) {
                ff.add(30); fv.add(1f); // one control prompt
            }
            coarse.add(new PromptActivations(p, l, facet, ints(cf), floats(cv)));
            fine.add(new PromptActivations(p, l, facet, ints(ff), floats(fv)));
        }
        return new FeatureTable[] {coarse, fine};
    }

    @Test
    void facetSubFeaturesAreFoundNamedAndMeasuredWhereTheAllPromptCorrelationMissesThem() throws Exception {
        FeatureTable[] t = tables();
        FacetSplit.Options o = FacetSplit.Options.defaults(0.3, 0.5);
        List<FeatureContrast> stats = ContrastStats.compute(t[1], new ContrastStats.Options(50, 1));
        int[] candidates = FacetSplit.candidates(stats, 16, o, 100);
        // 10 fires on every target prompt (not a subset), 50 on two (< 3), 60 is weak when it fires (0.2 < 0.5)
        assertArrayEquals(new int[] {20, 40, 30}, candidates, java.util.Arrays.toString(candidates));
        List<FacetSplit.Row> rows = FacetSplit.compute(new int[] {0}, candidates, t[0], t[1], DECODER::get, DECODER::get, o);
        assertEquals(2, rows.size(), rows.toString()); // 40's decoder is orthogonal to the anchor
        FacetSplit.Row cuisine = rows.get(0);
        assertEquals(20, cuisine.fine());
        assertEquals("cuisine", cuisine.facet());
        assertEquals(1.0, cuisine.facetShare(), 0);
        assertEquals(1.0, cuisine.facetCoverage(), 0);
        assertEquals(0.25, cuisine.fireRateTarget(), 0);
        assertEquals(0.0, cuisine.fireRateControl(), 0);
        assertEquals((7 + 8 + 9 + 10) / 4.0, cuisine.meanWhenFiring(), 1e-12);
        assertEquals(0.6, cuisine.cosine(), 1e-6);
        // the post's rule: over all prompts the split dominates, and r <= sqrt(q / (2 - q)) for q = 1/4
        assertTrue(cuisine.correlation() > 0 && cuisine.correlation() <= Math.sqrt(0.25 / 1.75) + 1e-12, "r " + cuisine.correlation());
        assertEquals(pearson(t[0].values(0), t[1].values(20), true), cuisine.targetCorrelation(), 1e-12);
        assertEquals(pearson(t[0].values(0), t[1].values(20), false), cuisine.correlation(), 1e-12);
        FacetSplit.Row spread = rows.get(1);
        assertEquals(30, spread.fine());
        assertEquals(FacetSplit.MIXED, spread.facet(), "one prompt in each facet names none");
        assertEquals(0.25, spread.facetShare(), 0);
        assertEquals(1.0 / 16, spread.fireRateControl(), 0);

        double[][] within = FacetSplit.targetCorrelations(new int[] {0}, new int[] {10, 20}, t[0], t[1]);
        assertEquals(pearson(t[0].values(0), t[1].values(10), true), within[0][0], 1e-12);
        assertEquals(1.0, within[0][0], 1e-12, "the near-duplicate moves with the anchor inside the target prompts");
        assertEquals(cuisine.targetCorrelation(), within[0][1], 0);
    }

    @Test
    void meanWhenFiringIsTheConditionalMeanAndOptionsAreChecked() {
        FeatureContrast s = new FeatureContrast(3, 1.5, 0, 0.125, 0, 1, 0.56, 0.01, 0.02, 1.0, 0.01);
        assertEquals(12.0, FacetSplit.meanWhenFiring(s), 1e-12);
        assertTrue(Double.isNaN(FacetSplit.meanWhenFiring(new FeatureContrast(4, 0, 0.5, 0, 0.5, 0, 0.5, 1, 1, 0, 1))));
        assertThrows(IllegalArgumentException.class, () -> new FacetSplit.Options(0, 3, 0.3, 0.5, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new FacetSplit.Options(0.5, 0, 0.3, 0.5, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new FacetSplit.Options(0.5, 3, 0.3, 0.5, 0));
    }

    static double pearson(double[] x, double[] y, boolean targetOnly) {
        int n = targetOnly ? 16 : x.length;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
        mx /= n;
        my /= n;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.sqrt(sxx * syy);
    }

    private static int[] ints(List<Integer> l) { return l.stream().mapToInt(Integer::intValue).toArray(); }

    private static float[] floats(List<Float> l) {
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = l.get(i);
        return out;
    }
}
