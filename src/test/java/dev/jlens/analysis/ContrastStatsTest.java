package dev.jlens.analysis;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContrastStatsTest {

    private static PromptActivations p(int index, Label label, int[] features, float[] values) {
        return new PromptActivations(index, label, label == Label.TARGET ? "cuisine" : "neutral", features, values);
    }

    /** 4 target and 4 control prompts; feature 3 as in {@link #computeGivesHandComputedStatistics}. */
    private static FeatureTable smallTable() {
        FeatureTable t = new FeatureTable();
        // feature 3: target 2,0,4,2 ; control 0,1,0,0. feature 9: control only. feature 5 listed with 0 only.
        t.add(p(0, Label.TARGET, new int[] {3, 5}, new float[] {2, 0}));
        t.add(p(1, Label.TARGET, new int[] {}, new float[] {}));
        t.add(p(2, Label.TARGET, new int[] {3}, new float[] {4}));
        t.add(p(3, Label.TARGET, new int[] {3}, new float[] {2}));
        t.add(p(4, Label.CONTROL, new int[] {9}, new float[] {1.5f}));
        t.add(p(5, Label.CONTROL, new int[] {3, 9}, new float[] {1, 0.5f}));
        t.add(p(6, Label.CONTROL, new int[] {}, new float[] {}));
        t.add(p(7, Label.CONTROL, new int[] {}, new float[] {}));
        return t;
    }

    @Test
    void selectivityIsTargetShareOfMeansAndZeroOverZeroIsZero() {
        assertEquals(0.75, ContrastStats.selectivity(3, 1), 0);     // 3 / (3 + 1)
        assertEquals(0.0, ContrastStats.selectivity(0, 2), 0);      // 0 / 2
        assertEquals(0.0, ContrastStats.selectivity(0, 0), 0);      // defined 0/0 -> 0
        assertThrows(IllegalArgumentException.class, () -> ContrastStats.selectivity(-1, 2));
    }

    @Test
    void aurocCountsTiesAsOneHalf() {
        // pairs (t, c) over c = {0, 1, 1}: t=0 -> 0.5 + 0 + 0 = 0.5; t=1 -> 1 + 0.5 + 0.5 = 2; t=2 -> 3
        // U = 5.5, n1 n2 = 9, AUROC = 5.5 / 9
        assertEquals(5.5 / 9, ContrastStats.auroc(new double[] {0, 1, 2}, new double[] {0, 1, 1}), 1e-15);
        assertEquals(1.0, ContrastStats.auroc(new double[] {5, 6}, new double[] {0, 0, 1}), 0);
        assertEquals(0.0, ContrastStats.auroc(new double[] {0, 0}, new double[] {3}), 0);
        assertEquals(0.5, ContrastStats.auroc(new double[] {2, 2, 2}, new double[] {2, 2}), 0);
    }

    @Test
    void aurocEqualsBruteForcePairCountOnTiedData() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
        for (int[] sizes : new int[][] {{1, 1}, {1, 7}, {7, 13}, {13, 2}, {200, 200}}) {
            double[] t = new double[sizes[0]], c = new double[sizes[1]];
            // few distinct values (many zeros) so ties are common, as with sparse activations
            for (int i = 0; i < t.length; i++) t[i] = rng.nextInt(3) == 0 ? 0 : rng.nextInt(4);
            for (int i = 0; i < c.length; i++) c[i] = rng.nextInt(2) == 0 ? 0 : rng.nextInt(3);
            double u = 0;
            for (double x : t) for (double y : c) u += x > y ? 1 : x == y ? 0.5 : 0;
            assertEquals(u / (t.length * c.length), ContrastStats.auroc(t, c), 1e-15, sizes[0] + "x" + sizes[1]);
        }
    }

    @Test
    void cohensDDividesByPooledSampleSd() {
        // t = 1,2,3: mean 2, SS = 2; c = 0,0,0: mean 0, SS = 0
        // pooled var = (2 + 0) / (3 + 3 - 2) = 0.5; d = 2 / sqrt(0.5) = 2.828427...
        assertEquals(2 / Math.sqrt(0.5), ContrastStats.cohensD(new double[] {1, 2, 3}, new double[] {0, 0, 0}), 1e-15);
    }

    @Test
    void cohensDWithZeroPooledSdIsZeroOrInfiniteButNeverNaN() {
        assertEquals(0.0, ContrastStats.cohensD(new double[] {1, 1}, new double[] {1, 1}), 0);
        assertEquals(Double.POSITIVE_INFINITY, ContrastStats.cohensD(new double[] {2, 2}, new double[] {0, 0}), 0);
        assertEquals(Double.NEGATIVE_INFINITY, ContrastStats.cohensD(new double[] {0, 0}, new double[] {2, 2}), 0);
    }

    @Test
    void benjaminiHochbergMatchesTextbookExample() {
        // sorted p: 0.005 (rank 1), 0.01 (2), 0.03 (3), 0.04 (4); m = 4
        // m p / rank: 0.02, 0.02, 0.04, 0.04; running minimum from the top leaves them unchanged
        double[] q = ContrastStats.benjaminiHochberg(new double[] {0.01, 0.04, 0.03, 0.005});
        assertArrayEquals(new double[] {0.02, 0.04, 0.04, 0.02}, q, 1e-15);
    }

    @Test
    void benjaminiHochbergTakesRunningMinimumAndCapsAtOne() {
        // p = 0.01..0.05, m = 5: m p / rank = 0.05 each -> all q = 0.05
        assertArrayEquals(new double[] {0.05, 0.05, 0.05, 0.05, 0.05},
                ContrastStats.benjaminiHochberg(new double[] {0.05, 0.01, 0.04, 0.02, 0.03}), 1e-15);
        // p = 0.02 (rank 1), 0.021 (2), 0.9 (3): m p / rank = 0.06, 0.0315, 0.9
        // running min from the top: 0.9, 0.0315, min(0.06, 0.0315) = 0.0315
        assertArrayEquals(new double[] {0.0315, 0.0315, 0.9},
                ContrastStats.benjaminiHochberg(new double[] {0.02, 0.021, 0.9}), 1e-15);
        // p = 0.6, 0.7 (m = 2): 1.2 -> capped to 1 by the running minimum that starts at 1, 0.7
        assertArrayEquals(new double[] {0.7, 0.7}, ContrastStats.benjaminiHochberg(new double[] {0.6, 0.7}), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> ContrastStats.benjaminiHochberg(new double[] {Double.NaN}));
    }

    @Test
    void computeGivesHandComputedStatistics() {
        List<FeatureContrast> stats = ContrastStats.compute(smallTable(), new ContrastStats.Options(200, 1));
        // feature 5 only ever listed with value 0 and never-listed features are skipped
        assertEquals(List.of(3, 9), stats.stream().map(FeatureContrast::feature).toList());
        FeatureContrast f3 = stats.get(0);
        assertEquals(2.0, f3.meanTarget(), 1e-15);          // (2 + 0 + 4 + 2) / 4
        assertEquals(0.25, f3.meanControl(), 1e-15);        // (0 + 1 + 0 + 0) / 4
        assertEquals(0.75, f3.fireRateTarget(), 0);         // 3 of 4
        assertEquals(0.25, f3.fireRateControl(), 0);        // 1 of 4
        assertEquals(2.0 / 2.25, f3.selectivity(), 1e-15);  // 2 / (2 + 0.25)
        // target vs control {0,1,0,0}: t=2 -> 4, t=0 -> 3 ties = 1.5, t=4 -> 4, t=2 -> 4; U = 13.5 of 16
        assertEquals(13.5 / 16, f3.auroc(), 1e-15);
        // SS_t = 0+4+4+0 = 8; SS_c = 3 * 0.0625 + 0.5625 = 0.75; pooled var = 8.75 / 6; d = 1.75 / sqrt(8.75/6)
        assertEquals(1.75 / Math.sqrt(8.75 / 6), f3.effectSize(), 1e-12);
        FeatureContrast f9 = stats.get(1);
        assertEquals(0.0, f9.meanTarget(), 0);
        assertEquals(0.5, f9.meanControl(), 1e-15);          // (1.5 + 0.5 + 0 + 0) / 4
        assertEquals(0.0, f9.selectivity(), 0);
        assertTrue(f9.effectSize() < 0);
        // Mann-Whitney with the tie correction (scipy.stats.mannwhitneyu(t, c, method="asymptotic")):
        // feature 3: [2,0,4,2] vs [0,1,0,0]; feature 9: [0,0,0,0] vs [1.5,0.5,0,0]
        assertEquals(0.12154795634938084, f3.pValue(), 1e-12 * f3.pValue());
        assertEquals(0.18587673236587587, f9.pValue(), 1e-12 * f9.pValue());
        // two tested features: q = BH of the two p-values (0.1215 * 2 / 1 > 0.1859 * 2 / 2, so both get 0.1859)
        assertEquals(0.18587673236587587, f3.qValue(), 1e-12);
        assertEquals(0.18587673236587587, f9.qValue(), 1e-12);
        for (FeatureContrast f : stats) {
            assertTrue(f.qValue() >= f.pValue(), "BH never lowers a p-value");
        }
    }

    @Test
    void samePermutationSeedGivesSamePValues() {
        ContrastStats.Options o = new ContrastStats.Options(300, 42);
        assertEquals(ContrastStats.compute(smallTable(), o), ContrastStats.compute(smallTable(), o));
    }

    @Test
    void identicalGroupsGivePValueOne() {
        FeatureTable t = new FeatureTable();
        for (int i = 0; i < 20; i++) {
            // the same values 1..5 in both groups: observed difference 0, every relabeling is at least as extreme
            t.add(p(i, i < 10 ? Label.TARGET : Label.CONTROL, new int[] {7}, new float[] {1 + (i % 5)}));
        }
        FeatureContrast f = ContrastStats.compute(t, new ContrastStats.Options(500, 3)).get(0);
        assertEquals(1.0, f.permutationPValue(), 0);
        assertEquals(1.0, f.pValue(), 0);
        assertEquals(0.5, f.auroc(), 0);
        assertEquals(0.0, f.effectSize(), 1e-12);
    }

    @Test
    void fullySeparatedGroupsReachThePermutationFloor() {
        FeatureTable t = new FeatureTable();
        for (int i = 0; i < 40; i++) {
            if (i < 20) t.add(p(i, Label.TARGET, new int[] {4}, new float[] {5 + 0.1f * i}));
            else t.add(p(i, Label.CONTROL, new int[] {}, new float[] {}));
        }
        // only 2 of C(40,20) ~ 1.4e11 labelings are as extreme: with 2000 draws none is, p = 1 / 2001
        int nPerm = 2000;
        FeatureContrast f = ContrastStats.compute(t, new ContrastStats.Options(nPerm, 9)).get(0);
        assertEquals(1.0 / (nPerm + 1), f.permutationPValue(), 1e-15);
        // the rank test has no such floor: scipy.stats.mannwhitneyu(20 distinct values, 20 zeros, method="asymptotic")
        assertEquals(8.006545033944715e-09, f.pValue(), 1e-12 * f.pValue());
        assertEquals(1.0, f.auroc(), 0);
        assertEquals(1.0, f.selectivity(), 0);
        assertEquals(1.0, f.fireRateTarget(), 0);
        assertEquals(0.0, f.fireRateControl(), 0);
    }

    @Test
    void permutationPValueConvergesToTheExactEnumeration() {
        // target 3,4,5 vs control 0,1,2: of the C(6,3) = 20 labelings only the observed one and its mirror
        // reach |diff| = 3, so the exact two-sided p is 2/20 = 0.1; 20000 draws put the estimate within
        // about 3 standard errors (sqrt(0.1 * 0.9 / 20000) = 0.0021) of it
        FeatureTable t = new FeatureTable();
        for (int i = 0; i < 6; i++) {
            t.add(p(i, i < 3 ? Label.TARGET : Label.CONTROL, new int[] {2}, new float[] {i < 3 ? 3 + i : i - 3 + 0.001f}));
        }
        FeatureContrast f = ContrastStats.compute(t, new ContrastStats.Options(20000, 5)).get(0);
        assertEquals(0.1, f.permutationPValue(), 0.0065);
        // no ties in 3 vs 3: the exact Mann-Whitney p is the same enumeration's 2/20, to the last bit
        assertEquals(0.1, f.pValue(), 1e-15);
    }

    @Test
    void tooFewPromptsPerGroupIsRejected() {
        FeatureTable t = new FeatureTable();
        t.add(p(0, Label.TARGET, new int[] {1}, new float[] {1}));
        t.add(p(1, Label.CONTROL, new int[] {1}, new float[] {1}));
        t.add(p(2, Label.CONTROL, new int[] {1}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> ContrastStats.compute(t, ContrastStats.Options.DEFAULT));
    }

    @Test
    void rankingFiltersByMinimumMeanTargetAndOrdersBySelectivityThenEffect() {
        List<FeatureContrast> stats = List.of(
                new FeatureContrast(1, 0.05, 0.0, 0.1, 0, 1.0, 0.6, 0.1, 0.2, 0.5, 0.1),   // selective but weak
                new FeatureContrast(2, 2.0, 0.5, 0.9, 0.2, 0.8, 0.9, 0.01, 0.02, 1.5, 0.01),
                new FeatureContrast(3, 3.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.001, 0.003, 4.0, 0.001),
                new FeatureContrast(4, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 0.0, 1.0));
        assertEquals(List.of(3, 2, 4), ContrastStats.topBySelectivity(stats, 0.5, 10).stream()
                .map(FeatureContrast::feature).toList());
        assertEquals(List.of(3, 1), ContrastStats.topBySelectivity(stats, 0.0, 2).stream()
                .map(FeatureContrast::feature).toList());
        assertEquals(List.of(3, 2), ContrastStats.topByEffectSize(stats, 2).stream()
                .map(FeatureContrast::feature).toList());
    }

    @Test
    void promptActivationsCopyTheirArraysAndCompareByContent() {
        int[] f = {4, 1};
        float[] v = {0.5f, 2f};
        PromptActivations a = new PromptActivations(0, Label.TARGET, "sport", f, v);
        f[0] = 99;
        v[0] = 99f;
        assertEquals(0.5f, a.valueOf(4));
        assertEquals(0f, a.valueOf(99));
        assertEquals(new PromptActivations(0, Label.TARGET, "sport", new int[] {4, 1}, new float[] {0.5f, 2f}), a);
        a.values()[0] = 7f;
        assertEquals(0.5f, a.valueAt(0));
    }

    @Test
    void invalidActivationsAreRejectedAtTheBoundary() {
        assertThrows(IllegalArgumentException.class,
                () -> new PromptActivations(0, Label.TARGET, null, new int[] {1, 1}, new float[] {1, 2}));
        assertThrows(IllegalArgumentException.class,
                () -> new PromptActivations(0, Label.TARGET, null, new int[] {1}, new float[] {-0.5f}));
        assertThrows(IllegalArgumentException.class,
                () -> new PromptActivations(0, Label.TARGET, null, new int[] {1}, new float[] {Float.NaN}));
        assertThrows(IllegalArgumentException.class,
                () -> new PromptActivations(0, Label.TARGET, null, new int[] {1, 2}, new float[] {1}));
        FeatureTable t = new FeatureTable();
        t.add(p(3, Label.TARGET, new int[] {}, new float[] {}));
        assertThrows(IllegalArgumentException.class, () -> t.add(p(3, Label.CONTROL, new int[] {}, new float[] {})));
    }

    @Test
    void aurocOnSparseColumnsEqualsThePairwiseDefinitionAndStaysFast() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(3);
        for (int trial = 0; trial < 50; trial++) {
            double[] t = new double[1 + r.nextInt(300)], c = new double[1 + r.nextInt(300)];
            for (int i = 0; i < t.length; i++) t[i] = r.nextInt(10) < 8 ? 0 : r.nextInt(4); // mostly zeros, many ties
            for (int i = 0; i < c.length; i++) c[i] = r.nextInt(10) < 8 ? 0 : r.nextInt(4);
            double u = 0;
            for (double a : t) for (double b : c) u += a > b ? 1 : a == b ? 0.5 : 0;
            assertEquals(u / ((double) t.length * c.length), ContrastStats.auroc(t, c), 1e-12);
        }
        // 800 x 800 all-zero columns: the walk is per distinct value, not per (target, control) pair
        double[] z = new double[800];
        long t0 = System.nanoTime();
        for (int i = 0; i < 2000; i++) assertEquals(0.5, ContrastStats.auroc(z, z), 0);
        assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "2000 sparse AUROCs took " + (System.nanoTime() - t0) / 1e6 + " ms");
    }

    /**
     * compute() sums every relabeling at once in vector lanes; its p-values must be bit-identical to the reference
     * (one pass over the fired rows per relabeling), including ties of equal values and features firing on every row.
     */
    @Test
    void vectorizedPermutationPValuesEqualTheReferenceExactly() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(11);
        int n = 53, nFeatures = 40;
        FeatureTable t = new FeatureTable();
        for (int i = 0; i < n; i++) {
            Label l = i % 3 == 0 ? Label.CONTROL : Label.TARGET;
            java.util.List<Integer> fs = new java.util.ArrayList<>();
            java.util.List<Float> vs = new java.util.ArrayList<>();
            for (int f = 0; f < nFeatures; f++) {
                double rate = f < 3 ? 1.0 : (f % 7) / 7.0;
                if (r.nextDouble() < rate) { fs.add(f); vs.add(f % 4 == 0 ? 2.5f : (float) (0.01 + r.nextDouble() * 10)); }
            }
            t.add(p(i, l, fs.stream().mapToInt(Integer::intValue).toArray(), toArray(vs)));
        }
        ContrastStats.Options opts = new ContrastStats.Options(777, 3);
        List<FeatureContrast> stats = ContrastStats.compute(t, opts);
        boolean[] isTarget = new boolean[n];
        for (int i = 0; i < n; i++) isTarget[i] = t.label(i) == Label.TARGET;
        boolean[][] perms = ContrastStats.permutations(isTarget, opts);
        int checked = 0;
        for (FeatureContrast fc : stats) {
            double[] dense = t.values(fc.feature());
            double sT = 0, sC = 0;
            for (int i = 0; i < n; i++) if (isTarget[i]) sT += dense[i]; else sC += dense[i];
            double observed = fc.meanTarget() - fc.meanControl();
            double ref = ContrastStats.permutationPValue(t.firedRows(fc.feature()), t.firedValues(fc.feature()),
                    t.targetCount(), t.controlCount(), observed, perms);
            assertEquals(Double.doubleToRawLongBits(ref), Double.doubleToRawLongBits(fc.permutationPValue()), "feature " + fc.feature());
            assertEquals(ContrastStats.auroc(targets(dense, isTarget, true), targets(dense, isTarget, false)), fc.auroc(), 0);
            assertEquals(MannWhitney.test(targets(dense, isTarget, true), targets(dense, isTarget, false)).pValue(), fc.pValue(), 0);
            checked++;
        }
        assertTrue(checked >= 35, "features checked: " + checked);
    }

    /**
     * 30 target and 30 control prompts, 200 features of noise and one perfectly separated feature: its Mann-Whitney q
     * is far below anything 200 permutations could give, and the significance summary says where the floor is.
     */
    @Test
    void separatedFeatureReachesQValuesPermutationsCannotAndTheFloorIsReported() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(8);
        FeatureTable t = new FeatureTable();
        int nFeatures = 200, separated = 77;
        for (int i = 0; i < 60; i++) {
            boolean target = i < 30;
            java.util.List<Integer> fs = new java.util.ArrayList<>();
            java.util.List<Float> vs = new java.util.ArrayList<>();
            for (int f = 0; f < nFeatures; f++) {
                if (f == separated ? target : r.nextInt(5) == 0) { fs.add(f); vs.add((float) (0.5 + r.nextDouble())); }
            }
            t.add(p(i, target ? Label.TARGET : Label.CONTROL, fs.stream().mapToInt(Integer::intValue).toArray(), toArray(vs)));
        }
        ContrastStats.Options opts = new ContrastStats.Options(200, 4);
        List<FeatureContrast> stats = ContrastStats.compute(t, opts);
        FeatureContrast f = stats.stream().filter(x -> x.feature() == separated).findFirst().orElseThrow();
        // 30 distinct values against 30 zeros: tie-corrected z = (900 - 450 - 0.5) / sqrt(75 (61 - 26970 / 3540))
        double z = 449.5 / Math.sqrt(900 / 12.0 * (61 - (30.0 * 30 * 30 - 30) / (60.0 * 59)));
        assertEquals(MannWhitney.erfc(z / Math.sqrt(2)), f.pValue(), 1e-12 * f.pValue());
        assertTrue(f.qValue() < 1e-6, "q of the separated feature: " + f.qValue());
        assertEquals(1.0 / 201, f.permutationPValue(), 1e-15);

        ContrastStats.Significance g = ContrastStats.significance(stats, 30, 30, opts, 0.05);
        assertEquals(stats.size(), g.tested());
        double floor = new MannWhitney(30, 30).smallestPValue();
        assertEquals(floor, g.smallestP(), 0);
        assertEquals(stats.size() * floor, g.smallestQ(), 1e-15 * g.smallestQ());
        assertTrue(g.smallestP() <= f.pValue() && f.qValue() >= g.smallestP());
        assertEquals(1.0 / 201, g.permutationSmallestP(), 0);
        long significant = stats.stream().filter(x -> x.qValue() < 0.05).count();
        assertEquals(significant, g.significant());
        assertTrue(g.significant() >= 1 && g.confirmed() >= 1 && g.confirmed() <= g.significant());
        System.out.printf("separated feature: p %.3g, q %.3g (permutation p %.3g); floor p %.3g, lone-feature q %.3g over %d features%n",
                f.pValue(), f.qValue(), f.permutationPValue(), g.smallestP(), g.smallestQ(), g.tested());
    }

    private static float[] toArray(java.util.List<Float> vs) {
        float[] out = new float[vs.size()];
        for (int i = 0; i < out.length; i++) out[i] = vs.get(i);
        return out;
    }

    private static double[] targets(double[] dense, boolean[] isTarget, boolean want) {
        return java.util.stream.IntStream.range(0, dense.length).filter(i -> isTarget[i] == want).mapToDouble(i -> dense[i]).toArray();
    }
}
