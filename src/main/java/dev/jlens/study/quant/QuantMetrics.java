package dev.jlens.study.quant;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The comparisons of the quantisation study, each a pure function: relative L2 error of a row, Jaccard index of two
 * active feature sets, Spearman rank correlation with average ranks for ties (as scipy.stats.spearmanr).
 */
public final class QuantMetrics {
    private QuantMetrics() {}

    /** ||x - ref|| / ||ref||, in double; 0 when both are zero, +Infinity when only {@code ref} is. */
    public static double relativeL2(float[] x, float[] ref) {
        if (x.length != ref.length) throw new IllegalArgumentException("rows of " + x.length + " and " + ref.length + " values");
        double d = 0, n = 0;
        for (int i = 0; i < x.length; i++) {
            double e = (double) x[i] - ref[i];
            d += e * e;
            n += (double) ref[i] * ref[i];
        }
        if (n == 0) return d == 0 ? 0 : Double.POSITIVE_INFINITY;
        return Math.sqrt(d / n);
    }

    /** |a ∩ b| / |a ∪ b| of two ascending index sets; 1 when both are empty. */
    public static double jaccard(int[] a, int[] b) {
        if (a.length == 0 && b.length == 0) return 1;
        int i = 0, j = 0, common = 0;
        while (i < a.length && j < b.length) {
            if (a[i] == b[j]) {
                common++;
                i++;
                j++;
            } else if (a[i] < b[j]) {
                i++;
            } else {
                j++;
            }
        }
        return (double) common / (a.length + b.length - common);
    }

    /**
     * Spearman's rho: the Pearson correlation of the average ranks of {@code x} and {@code y} (ties share the mean of
     * their ranks). NaN when fewer than two values or when either side is constant.
     */
    public static double spearman(double[] x, double[] y) {
        if (x.length != y.length) throw new IllegalArgumentException(x.length + " and " + y.length + " values");
        if (x.length < 2) return Double.NaN;
        return pearson(ranks(x), ranks(y));
    }

    /** Average ranks from 1; ties get the mean of the ranks they span. */
    static double[] ranks(double[] v) {
        Integer[] order = IntStream.range(0, v.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble(i -> v[i]));
        double[] r = new double[v.length];
        for (int i = 0; i < order.length; ) {
            int j = i;
            while (j + 1 < order.length && v[order[j + 1]] == v[order[i]]) j++;
            double mean = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) r[order[k]] = mean;
            i = j + 1;
        }
        return r;
    }

    static double pearson(double[] x, double[] y) {
        double mx = 0, my = 0;
        for (int i = 0; i < x.length; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= x.length;
        my /= y.length;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        if (sxx == 0 || syy == 0) return Double.NaN;
        return sxy / Math.sqrt(sxx * syy);
    }
}
