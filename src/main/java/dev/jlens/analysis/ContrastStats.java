package dev.jlens.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

import dev.jlens.kernels.KernelProvider;
import dev.jlens.kernels.Kernels;

/**
 * Per-feature target-vs-control statistics over a {@link FeatureTable}.
 *
 * <p>Definitions (all in double):
 * <ul>
 *   <li>means include the zeros of prompts where the feature did not fire;</li>
 *   <li>selectivity = meanT / (meanT + meanC); activations are non-negative, so it lies in [0, 1];
 *       we define 0/0 as 0 (a feature silent on both sides is not selective);</li>
 *   <li>AUROC = U / (nT nC) with U the Mann-Whitney count of (target, control) pairs where the target value
 *       is larger, ties counted 1/2 (counted by merging the two sorted groups);</li>
 *   <li>p-value: two-sided Mann-Whitney U test of the target against the control values ({@link MannWhitney}: exact
 *       without ties in small samples, tie-corrected normal approximation otherwise). It is the rank test whose
 *       statistic the AUROC already is, and it reaches the small p-values that a correction over tens of thousands
 *       of features needs (2 x 200 prompts: down to ~1e-88), where a permutation p cannot go below
 *       1 / (permutations + 1);</li>
 *   <li>permutation p-value, kept as a check: two-sided permutation test of meanT - meanC. The same
 *       {@code permutations} random relabelings (fixed seed, Fisher-Yates) are used for every feature; a relabeling
 *       counts when |diff| &ge; |observed diff| (with a 1e-9 relative tolerance so that sums of the same floats in
 *       another order still tie); p = (count + 1) / (permutations + 1);</li>
 *   <li>q-value: Benjamini-Hochberg of the Mann-Whitney p-values over all tested features (those active on at
 *       least one prompt);</li>
 *   <li>effect size: Cohen's d = (meanT - meanC) / s_pooled,
 *       s_pooled² = ((nT-1) s_T² + (nC-1) s_C²) / (nT + nC - 2) with sample variances. When s_pooled is 0
 *       d is 0 if the means are equal and ±infinity otherwise (two constant, different groups): never NaN.</li>
 * </ul>
 * Features never active anywhere are not tested: they are absent from the table and from the output.
 */
public final class ContrastStats {
    private ContrastStats() {}

    /**
     * @param permutations number of random label permutations per feature (&ge; 1)
     * @param seed seed of the permutation generator; same seed, same table ⇒ same p-values
     */
    public record Options(int permutations, long seed) {
        public static final Options DEFAULT = new Options(1000, 0x5EED_F4A7CEL);

        public Options {
            if (permutations < 1) throw new IllegalArgumentException("permutations must be >= 1, got " + permutations);
        }
    }

    /** Statistics for every active feature of {@code table}, ascending by feature index. */
    public static List<FeatureContrast> compute(FeatureTable table, Options options) {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(options, "options");
        int n = table.promptCount();
        int nT = table.targetCount();
        int nC = table.controlCount();
        if (nT < 2 || nC < 2) {
            throw new IllegalArgumentException("need at least 2 target and 2 control prompts, got "
                    + nT + " target and " + nC + " control");
        }
        boolean[] isTarget = new boolean[n];
        int[] groupIndex = new int[n]; // position of each row within its group (target or control), in row order
        for (int r = 0, it = 0, ic = 0; r < n; r++) {
            isTarget[r] = table.label(r) == Label.TARGET;
            groupIndex[r] = isTarget[r] ? it++ : ic++;
        }
        MannWhitney rankTest = new MannWhitney(nT, nC); // one null distribution for every feature
        boolean[][] perms = permutations(isTarget, options);
        int nPerm = perms.length;
        double[] labels = labelMatrix(perms, n);

        int[] features = table.activeFeatures();
        double[] p = new double[features.length];
        double[] permP = new double[features.length];
        double[][] partial = new double[features.length][];
        // features are independent (the permutations are shared, read-only): in parallel, same numbers. Each
        // thread reuses one set of buffers: per-feature arrays were gigabytes of garbage over a 262k SAE.
        ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(() -> new Scratch(n, nT, nC, nPerm));
        java.util.stream.IntStream.range(0, features.length).parallel().forEach(f -> {
            Scratch s = scratch.get();
            int m = table.copyFired(features[f], s.rows, s.values);
            Arrays.fill(s.target, 0.0);
            Arrays.fill(s.control, 0.0);
            int firedT = 0, firedC = 0;
            for (int i = 0; i < m; i++) {
                int r = s.rows[i];
                // values > 0 by construction of the table
                if (isTarget[r]) { s.target[groupIndex[r]] = s.values[i]; firedT++; }
                else { s.control[groupIndex[r]] = s.values[i]; firedC++; }
            }
            double meanT = mean(s.target);
            double meanC = mean(s.control);
            permP[f] = permutationPValue(s.rows, s.values, m, nT, nC, meanT - meanC, labels, nPerm, s.acc);
            System.arraycopy(s.target, 0, s.sortedT, 0, nT);
            System.arraycopy(s.control, 0, s.sortedC, 0, nC);
            Arrays.sort(s.sortedT);
            Arrays.sort(s.sortedC);
            p[f] = rankTest.testSorted(s.sortedT, s.sortedC).pValue();
            partial[f] = new double[] {meanT, meanC, (double) firedT / nT, (double) firedC / nC,
                    selectivity(meanT, meanC), aurocSorted(s.sortedT, s.sortedC), cohensD(s.target, s.control)};
        });
        double[] q = benjaminiHochberg(p);
        List<FeatureContrast> out = new ArrayList<>(features.length);
        for (int f = 0; f < features.length; f++) {
            double[] s = partial[f];
            out.add(new FeatureContrast(features[f], s[0], s[1], s[2], s[3], s[4], s[5], p[f], q[f], s[6], permP[f]));
        }
        return List.copyOf(out);
    }

    /**
     * How far the test can go for one table, and whether the permutation check agrees with it.
     *
     * @param alpha                the significance level of the two counts
     * @param tested               features tested (active on at least one prompt): Benjamini-Hochberg's m
     * @param smallestP            the smallest Mann-Whitney p these group sizes allow ({@link MannWhitney#smallestPValue})
     * @param smallestQ            min(1, m smallestP): the q of a feature at that p when no other feature is as
     *                             significant, the floor Benjamini-Hochberg puts under a lone separated feature (with k
     *                             features at smallestP it is m smallestP / k, never below smallestP)
     * @param permutations         relabelings of the permutation check
     * @param permutationSmallestP 1 / (permutations + 1): the check's own floor, and m times it the q it could reach
     * @param significant          features with q &lt; alpha
     * @param confirmed            of those, the features whose permutation p is also &lt; alpha
     */
    public record Significance(double alpha, int tested, double smallestP, double smallestQ, int permutations,
                               double permutationSmallestP, int significant, int confirmed) {}

    /** {@link Significance} of {@code stats} (the output of {@link #compute} on a table of these group sizes). */
    public static Significance significance(List<FeatureContrast> stats, int nTarget, int nControl, Options options, double alpha) {
        Objects.requireNonNull(stats, "stats");
        Objects.requireNonNull(options, "options");
        if (!(alpha > 0 && alpha < 1)) throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
        double pMin = new MannWhitney(nTarget, nControl).smallestPValue();
        int significant = 0, confirmed = 0;
        for (FeatureContrast f : stats) {
            if (f.qValue() < alpha) {
                significant++;
                if (f.permutationPValue() < alpha) confirmed++;
            }
        }
        return new Significance(alpha, stats.size(), pMin, Math.min(1.0, stats.size() * pMin), options.permutations(),
                1.0 / (options.permutations() + 1.0), significant, confirmed);
    }

    /** meanT / (meanT + meanC); 0 when both are 0. Inputs must be non-negative. */
    public static double selectivity(double meanTarget, double meanControl) {
        if (meanTarget < 0 || meanControl < 0) {
            throw new IllegalArgumentException("means must be >= 0, got " + meanTarget + ", " + meanControl);
        }
        double sum = meanTarget + meanControl;
        return sum == 0 ? 0.0 : meanTarget / sum;
    }

    /** Mann-Whitney U / (nT nC) with ties counted 1/2; target above control gives 1. */
    public static double auroc(double[] target, double[] control) {
        int nT = target.length, nC = control.length;
        if (nT == 0 || nC == 0) throw new IllegalArgumentException("AUROC needs both groups non-empty");
        double[] t = target.clone();
        double[] c = control.clone();
        Arrays.sort(t);
        Arrays.sort(c);
        return aurocSorted(t, c);
    }

    /** {@link #auroc} of two groups already sorted ascending. */
    static double aurocSorted(double[] t, double[] c) {
        int nT = t.length, nC = c.length;
        // walk both sorted arrays one distinct target value at a time: `below` controls are smaller, `equal`
        // tie with it. Per distinct value, not per target: sparse features are mostly zeros, and counting the
        // tied zeros again for every zero target made this nT x nC (500 s of a 400-prompt 262k run).
        double u = 0;
        int below = 0;
        for (int i = 0; i < nT; ) {
            double v = t[i];
            int iEnd = i;
            while (iEnd < nT && t[iEnd] == v) iEnd++;
            while (below < nC && c[below] < v) below++;
            int equalEnd = below;
            while (equalEnd < nC && c[equalEnd] == v) equalEnd++;
            u += (iEnd - i) * (below + 0.5 * (equalEnd - below));
            i = iEnd;
        }
        return clampUnit(u / ((double) nT * nC));
    }

    /** Cohen's d with pooled sample SD; 0 or ±infinity when the pooled SD is 0 (see class comment). */
    public static double cohensD(double[] target, double[] control) {
        int nT = target.length, nC = control.length;
        if (nT < 2 || nC < 2) throw new IllegalArgumentException("Cohen's d needs >= 2 values per group");
        double mT = mean(target), mC = mean(control);
        double ssT = 0, ssC = 0;
        for (double v : target) ssT += (v - mT) * (v - mT);
        for (double v : control) ssC += (v - mC) * (v - mC);
        double pooled = Math.sqrt((ssT + ssC) / (nT + nC - 2));
        double diff = mT - mC;
        if (pooled == 0) return diff == 0 ? 0.0 : Math.copySign(Double.POSITIVE_INFINITY, diff);
        return diff / pooled;
    }

    /**
     * Benjamini-Hochberg adjusted p-values, in input order: q_(i) = min over j &ge; i of m p_(j) / j, capped at 1,
     * where p_(1) &le; ... &le; p_(m).
     */
    public static double[] benjaminiHochberg(double[] pValues) {
        int m = pValues.length;
        for (int i = 0; i < m; i++) {
            if (!(pValues[i] >= 0 && pValues[i] <= 1)) {
                throw new IllegalArgumentException("p-value [" + i + "] = " + pValues[i] + " is not in [0, 1]");
            }
        }
        Integer[] order = new Integer[m];
        for (int i = 0; i < m; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble(i -> pValues[i]));
        double[] q = new double[m];
        double running = 1.0;
        for (int rank = m; rank >= 1; rank--) {
            int idx = order[rank - 1];
            running = Math.min(running, pValues[idx] * m / rank);
            q[idx] = running;
        }
        return q;
    }

    private static final Kernels KERNELS = KernelProvider.best();

    /** Per-thread buffers of {@link #compute}. */
    private static final class Scratch {
        final int[] rows;
        final float[] values;
        final double[] target, control, sortedT, sortedC, acc;

        Scratch(int n, int nT, int nC, int nPerm) {
            rows = new int[n];
            values = new float[n];
            target = new double[nT];
            control = new double[nC];
            sortedT = new double[nT];
            sortedC = new double[nC];
            acc = new double[nPerm];
        }
    }

    /** labels[row * nPerm + p] = 1 when row is a target under relabeling p, else 0. */
    static double[] labelMatrix(boolean[][] perms, int n) {
        int nPerm = perms.length;
        double[] out = new double[Math.multiplyExact(n, nPerm)];
        for (int p = 0; p < nPerm; p++) {
            for (int r = 0; r < n; r++) if (perms[p][r]) out[r * nPerm + p] = 1.0;
        }
        return out;
    }

    /**
     * Two-sided permutation p-value of meanT - meanC for one sparse feature column: the target sum of every
     * relabeling at once, as the fired rows times the 0/1 label matrix ({@link Kernels#sparseRowSum}). Bit-identical
     * to {@link #permutationPValue(int[], float[], int, int, double, boolean[][])}, which adds the same values in
     * the same order one relabeling at a time; the cost is (fired rows) x (permutations) either way, but here it
     * runs in vector lanes over contiguous memory instead of a random-access gather per relabeling.
     */
    static double permutationPValue(int[] rows, float[] values, int count, int nT, int nC, double observed,
                                    double[] labels, int nPerm, double[] acc) {
        double total = 0;
        for (int k = 0; k < count; k++) total += values[k];
        double tol = 1e-9 * (Math.abs(observed) + total / (nT + nC));
        double threshold = Math.abs(observed) - tol;
        Arrays.fill(acc, 0, nPerm, 0.0);
        KERNELS.sparseRowSum(rows, values, count, labels, nPerm, acc, nPerm);
        int hits = 0;
        for (int p = 0; p < nPerm; p++) {
            double sumT = acc[p];
            double diff = sumT / nT - (total - sumT) / nC;
            if (Math.abs(diff) >= threshold) hits++;
        }
        return (hits + 1.0) / (nPerm + 1.0);
    }

    /**
     * The reference form of the permutation p-value (one pass over the fired rows per relabeling), kept as the
     * scalar twin the tests compare {@link #compute} against. Only fired rows contribute to the sums.
     */
    static double permutationPValue(int[] rows, float[] values, int nT, int nC, double observed, boolean[][] perms) {
        double total = 0;
        for (float v : values) total += v;
        double tol = 1e-9 * (Math.abs(observed) + total / (nT + nC));
        double threshold = Math.abs(observed) - tol;
        int count = 0;
        for (boolean[] isTarget : perms) {
            double sumT = 0;
            for (int k = 0; k < rows.length; k++) if (isTarget[rows[k]]) sumT += values[k];
            double diff = sumT / nT - (total - sumT) / nC;
            if (Math.abs(diff) >= threshold) count++;
        }
        return (count + 1.0) / (perms.length + 1.0);
    }

    /** {@code options.permutations()} shuffled copies of the label vector, from one seeded generator. */
    static boolean[][] permutations(boolean[] isTarget, Options options) {
        SplittableRandom rng = new SplittableRandom(options.seed());
        boolean[][] out = new boolean[options.permutations()][];
        for (int p = 0; p < out.length; p++) {
            boolean[] a = isTarget.clone();
            for (int i = a.length - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                boolean t = a[i]; a[i] = a[j]; a[j] = t;
            }
            out[p] = a;
        }
        return out;
    }

    /**
     * The {@code k} most selective features among those with meanTarget &ge; {@code minMeanTarget};
     * ties broken by larger meanTarget, then smaller feature index.
     */
    public static List<FeatureContrast> topBySelectivity(List<FeatureContrast> stats, double minMeanTarget, int k) {
        if (k < 0) throw new IllegalArgumentException("k must be >= 0, got " + k);
        return stats.stream()
                .filter(s -> s.meanTarget() >= minMeanTarget)
                .sorted(Comparator.comparingDouble(FeatureContrast::selectivity).reversed()
                        .thenComparing(Comparator.comparingDouble(FeatureContrast::meanTarget).reversed())
                        .thenComparingInt(FeatureContrast::feature))
                .limit(k)
                .toList();
    }

    /** The {@code k} features with the largest effect size (target above control); ties by feature index. */
    public static List<FeatureContrast> topByEffectSize(List<FeatureContrast> stats, int k) {
        if (k < 0) throw new IllegalArgumentException("k must be >= 0, got " + k);
        return stats.stream()
                .sorted(Comparator.comparingDouble(FeatureContrast::effectSize).reversed()
                        .thenComparingInt(FeatureContrast::feature))
                .limit(k)
                .toList();
    }

    private static double mean(double[] a) {
        double s = 0;
        for (double v : a) s += v;
        return s / a.length;
    }

    private static double clampUnit(double v) {
        return Math.max(0.0, Math.min(1.0, v));
    }
}
