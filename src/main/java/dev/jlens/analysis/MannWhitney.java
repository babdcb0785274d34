package dev.jlens.analysis;

import java.math.BigInteger;
import java.util.Arrays;

/**
 * The two-sided Mann-Whitney U test of target against control values, for one pair of group sizes (the null
 * distribution is shared by every feature of a table). The numbers are those of
 * {@code scipy.stats.mannwhitneyu(target, control, alternative="two-sided", method=m)} with {@code m} as chosen here:
 * <ul>
 *   <li>U1 = the count of (target, control) pairs where the target value is larger, ties counted 1/2 (= AUROC n1 n2);
 *       U = max(U1, n1 n2 - U1);</li>
 *   <li><b>exact</b> when no value occurs twice in the pooled sample and the null distribution can be counted exactly
 *       (C(n1+n2, n1) &lt; 2^62 and n1 n2 &le; {@value #MAX_EXACT_CELLS}: e.g. 30 vs 30, 8 vs 250): p = 2 P(U' &ge; U),
 *       U' over all C(n1+n2, n1) labelings, counted in long arithmetic (no rounding until the final division);</li>
 *   <li><b>asymptotic</b> otherwise (ties, or larger groups): z = (U - n1 n2 / 2 - 1/2) / &sigma; with the
 *       continuity correction and the tie-corrected &sigma;&sup2; = n1 n2 / 12 ((n + 1) - &Sigma;(t&sup3; - t) / (n (n - 1))),
 *       t the size of each group of tied values; p = 2 &Phi;(-z) = erfc(z / &radic;2), accurate to ~1e-14 relative
 *       far into the tail (it underflows to 0 only below ~1e-300);</li>
 *   <li>p is capped at 1; when every value is tied (&sigma; = 0) p = 1.</li>
 * </ul>
 * scipy's {@code method="auto"} takes the exact test only when a group has at most 8 values; here it is taken whenever
 * it is exactly computable, which is never less accurate. Instances are immutable and thread-safe.
 */
public final class MannWhitney {
    /** The largest n1 n2 for which the exact null distribution is tabulated (one long per value of U). */
    public static final int MAX_EXACT_CELLS = 1 << 16;
    private static final double SQRT_PI = Math.sqrt(Math.PI);

    public enum Method { EXACT, ASYMPTOTIC }

    /**
     * @param u1     Mann-Whitney U of the target group (pairs target &gt; control, ties 1/2), in [0, n1 n2]
     * @param pValue two-sided p-value, in [0, 1]
     * @param method how it was computed
     */
    public record Result(double u1, double pValue, Method method) {}

    private final int n1, n2;
    /** tail[u] = number of labelings with U' &ge; u, u in 0..n1 n2; null when the exact test is not available. */
    private final long[] tail;
    private final long labelings;

    /** The test for {@code nTarget} target and {@code nControl} control values (each &ge; 1). */
    public MannWhitney(int nTarget, int nControl) {
        if (nTarget < 1 || nControl < 1) {
            throw new IllegalArgumentException("Mann-Whitney needs both groups non-empty, got " + nTarget + " and " + nControl);
        }
        n1 = nTarget;
        n2 = nControl;
        BigInteger c = binomial(n1 + n2, n1);
        if (c.bitLength() <= 62 && (long) n1 * n2 <= MAX_EXACT_CELLS) {
            labelings = c.longValueExact();
            tail = tailCounts(n1, n2);
        } else {
            labelings = -1;
            tail = null;
        }
    }

    public int nTarget() { return n1; }

    public int nControl() { return n2; }

    /** Whether a sample without ties gets the exact test. */
    public boolean exactAvailable() { return tail != null; }

    /** The test on two groups of the constructor's sizes (copied and sorted; NaN is rejected). */
    public static Result test(double[] target, double[] control) {
        double[] t = target.clone(), c = control.clone();
        for (double v : t) if (Double.isNaN(v)) throw new IllegalArgumentException("target value is NaN");
        for (double v : c) if (Double.isNaN(v)) throw new IllegalArgumentException("control value is NaN");
        Arrays.sort(t);
        Arrays.sort(c);
        return new MannWhitney(t.length, c.length).testSorted(t, c);
    }

    /** The test on two groups already sorted ascending, of this instance's sizes. Allocates nothing. */
    public Result testSorted(double[] t, double[] c) {
        if (t.length != n1 || c.length != n2) {
            throw new IllegalArgumentException("groups of " + t.length + " and " + c.length + " values for a test of " + n1 + " and " + n2);
        }
        // one walk over the distinct values of the pooled sample: U1 and the tie term together
        double u1 = 0, tieTerm = 0;
        boolean ties = false;
        int i = 0, j = 0;
        while (i < n1 || j < n2) {
            double v = j >= n2 || (i < n1 && t[i] <= c[j]) ? t[i] : c[j];
            int a = 0, b = 0;
            while (i < n1 && t[i] == v) { i++; a++; }
            int controlsBelow = j;
            while (j < n2 && c[j] == v) { j++; b++; }
            u1 += a * (controlsBelow + 0.5 * b);
            long tied = a + b;
            if (tied > 1) {
                ties = true;
                tieTerm += (double) tied * tied * tied - tied;
            }
        }
        double u = Math.max(u1, (double) n1 * n2 - u1);
        if (!ties && tail != null) return new Result(u1, exactTwoSided(u), Method.EXACT);
        return new Result(u1, asymptoticTwoSided(u, tieTerm), Method.ASYMPTOTIC);
    }

    /** 2 P(U' &ge; u) under the exact null distribution, capped at 1; u an integer in [0, n1 n2]. */
    double exactTwoSided(double u) {
        int k = (int) Math.ceil(u);
        if (k <= 0) return 1.0;
        if (k > n1 * n2) return 0.0;
        return Math.min(1.0, 2.0 * tail[k] / labelings);
    }

    /** erfc(z / &radic;2) with z = (u - n1 n2 / 2 - 1/2) / &sigma;(tieTerm), capped at 1; 1 when &sigma; = 0. */
    double asymptoticTwoSided(double u, double tieTerm) {
        double n = (double) n1 + n2;
        double var = (double) n1 * n2 / 12.0 * ((n + 1) - tieTerm / (n * (n - 1)));
        if (!(var > 0)) return 1.0;
        double z = (u - (double) n1 * n2 / 2.0 - 0.5) / Math.sqrt(var);
        return Math.min(1.0, erfc(z / Math.sqrt(2.0)));
    }

    /**
     * The smallest two-sided p-value this test can produce for these group sizes: every target value above every
     * control value, with the exact test when it applies, or with each group all one tied value (the largest tie
     * correction, hence the smallest &sigma;: what a sparse feature that fires on every target prompt with one value
     * and on no control prompt gets). The minimum of the two.
     */
    public double smallestPValue() {
        double u = (double) n1 * n2;
        double allTied = asymptoticTwoSided(u, cubeMinus(n1) + cubeMinus(n2));
        double distinct = tail != null ? exactTwoSided(u) : asymptoticTwoSided(u, 0);
        return Math.min(allTied, distinct);
    }

    private static double cubeMinus(long t) { return (double) t * t * t - t; }

    /**
     * The complementary error function, to ~1e-15 relative: 1 - erf(x) from erf's series of positive terms for
     * |x| &lt; 1.5, the continued fraction for erfc beyond (evaluated by the modified Lentz method).
     */
    public static double erfc(double x) {
        if (Double.isNaN(x)) return Double.NaN;
        if (x < 0) return 2.0 - erfc(-x);
        if (x < 1.5) {
            // erf(x) = 2/sqrt(pi) exp(-x^2) sum_k (2x^2)^k x / (1 3 5 ... (2k+1)): no cancellation
            double x2 = 2 * x * x, term = x, sum = x;
            for (int k = 1; k < 200 && term > 1e-17 * sum; k++) {
                term *= x2 / (2 * k + 1);
                sum += term;
            }
            return 1.0 - 2.0 / SQRT_PI * Math.exp(-x * x) * sum;
        }
        if (x > 27.3) return 0.0; // exp(-x^2) is below the smallest subnormal
        // erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + (2/2) / (x + (3/2) / (x + ...))))
        final double tiny = 1e-300;
        double f = x, cc = x, d = 0;
        for (int k = 1; k < 5000; k++) {
            double a = k / 2.0;
            d = x + a * d;
            if (d == 0) d = tiny;
            cc = x + a / cc;
            if (cc == 0) cc = tiny;
            d = 1 / d;
            double delta = cc * d;
            f *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return Math.exp(-x * x) / (SQRT_PI * f);
    }

    /** C(n, k) exactly. */
    static BigInteger binomial(int n, int k) {
        BigInteger r = BigInteger.ONE;
        for (int i = 1; i <= k; i++) r = r.multiply(BigInteger.valueOf(n - k + i)).divide(BigInteger.valueOf(i));
        return r;
    }

    /**
     * Tail counts of U over the C(n1+n2, n1) labelings: the counts are the coefficients of the Gaussian binomial
     * [n1+n2 choose n1]_q, built as prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i); every intermediate is itself a
     * Gaussian binomial, so no value exceeds the final total.
     */
    static long[] tailCounts(int n1, int n2) {
        int max = n1 * n2;
        long[] a = new long[max + 1];
        a[0] = 1;
        for (int i = 1; i <= n1; i++) {
            int deg = (i - 1) * n2, up = n2 + i;
            for (int k = Math.min(max, deg + up); k >= up; k--) a[k] -= a[k - up];
            for (int k = i, end = Math.min(max, deg + up); k <= end; k++) a[k] += a[k - i]; // exact: leaves 0 above i n2
        }
        long[] tail = new long[max + 2];
        for (int k = max; k >= 0; k--) tail[k] = tail[k + 1] + a[k];
        return tail;
    }
}
