package dev.jlens.study.steering;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;

/** The per-continuation scores' math: teacher-forced perplexity, n-gram repetition, bootstrap intervals. */
public final class Metrics {
    private Metrics() {}

    /**
     * Perplexity of {@code tokens[from..]} given its prefix: exp(mean over those tokens of −log p(token | prefix)),
     * where row i of {@code logits} is the distribution after tokens[0..i] (as {@code Context.logitsForSequence}
     * returns). Softmax in double with the max subtracted, so large logits neither overflow nor lose the tail.
     */
    public static double perplexity(float[][] logits, int[] tokens, int from) {
        Objects.requireNonNull(logits, "logits");
        Objects.requireNonNull(tokens, "tokens");
        if (logits.length != tokens.length) throw new IllegalArgumentException(logits.length + " logit rows for " + tokens.length + " tokens");
        if (from < 1 || from >= tokens.length) {
            throw new IllegalArgumentException("scored tokens must start in [1, " + tokens.length + "), got " + from + " (nothing to score?)");
        }
        double nll = 0;
        for (int i = from; i < tokens.length; i++) nll -= logSoftmax(logits[i - 1], tokens[i]);
        return Math.exp(nll / (tokens.length - from));
    }

    /** log softmax(logits)[token], in double. */
    public static double logSoftmax(float[] logits, int token) {
        Objects.checkIndex(token, logits.length);
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        return logits[token] - max - Math.log(sum);
    }

    /** Σ softmax(logits) over the given token ids, in double. */
    public static double probabilityMass(float[] logits, int[] ids) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        double hit = 0;
        for (int id : ids) hit += Math.exp(logits[Objects.checkIndex(id, logits.length)] - max);
        return hit / sum;
    }

    /**
     * Fraction of the sequence's n-grams that already occurred earlier in it (0 for a sequence with no
     * repeated n-gram or shorter than n). "a b a b a b" with n = 2 has 5 bigrams, 3 of them repeats: 0.6.
     */
    public static double repetitionRate(int[] tokens, int n) {
        if (n < 1) throw new IllegalArgumentException("n must be >= 1, got " + n);
        int grams = tokens.length - n + 1;
        if (grams <= 0) return 0;
        Set<List<Integer>> seen = new HashSet<>();
        int repeats = 0;
        for (int i = 0; i < grams; i++) {
            Integer[] g = new Integer[n];
            for (int k = 0; k < n; k++) g[k] = tokens[i + k];
            if (!seen.add(List.of(g))) repeats++;
        }
        return (double) repeats / grams;
    }

    /** A mean with its percentile-bootstrap 95% interval. */
    public record Estimate(double mean, double ciLow, double ciHigh, int n) {
        /** Whether the two 95% intervals share any value. */
        public boolean overlaps(Estimate o) { return ciLow <= o.ciHigh && o.ciLow <= ciHigh; }
    }

    /**
     * Mean and 95% percentile-bootstrap interval over {@code resamples} seeded resamples (same seed, same
     * interval). One value gives a zero-width interval at it; no values (e.g. every continuation empty, so no
     * perplexity) gives NaN with n = 0, written as null.
     */
    public static Estimate bootstrap(double[] xs, int resamples, long seed) {
        if (xs.length == 0) return new Estimate(Double.NaN, Double.NaN, Double.NaN, 0);
        if (resamples < 1) throw new IllegalArgumentException("resamples must be >= 1, got " + resamples);
        for (double x : xs) if (!Double.isFinite(x)) throw new IllegalArgumentException("non-finite score " + x);
        double mean = mean(xs);
        if (xs.length == 1) return new Estimate(mean, mean, mean, 1);
        SplittableRandom r = new SplittableRandom(seed);
        double[] means = new double[resamples];
        for (int b = 0; b < resamples; b++) {
            double s = 0;
            for (int i = 0; i < xs.length; i++) s += xs[r.nextInt(xs.length)];
            means[b] = s / xs.length;
        }
        java.util.Arrays.sort(means);
        return new Estimate(mean, quantile(means, 0.025), quantile(means, 0.975), xs.length);
    }

    static double mean(double[] xs) {
        double s = 0;
        for (double x : xs) s += x;
        return s / xs.length;
    }

    /** Linear-interpolated quantile of sorted values. */
    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
