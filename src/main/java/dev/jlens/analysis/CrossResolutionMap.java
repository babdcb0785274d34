package dev.jlens.analysis;

import dev.jlens.api.Classification;
import dev.jlens.api.Decision;
import dev.jlens.api.Verdict;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Maps top coarse-SAE features (anchors) onto top fine-SAE features: per (anchor, fine) pair the Pearson
 * correlation of their per-prompt activations over all prompts, and the cosine similarity of their
 * decoder rows. A pair "matches" when cosine &gt; minCosine AND correlation &gt; minCorrelation.
 *
 * <p>Classification of a pair: {@code MATCH} (both above), {@code CO_OCCURRING} (correlation above, cosine
 * not), {@code GEOMETRIC_ONLY} (cosine above, correlation not), {@code UNRELATED} (neither).
 *
 * <p>Verdict: GO when at least one anchor has &ge; {@code minSubFeatures} matches (the coarse feature splits
 * into several fine sub-features); the deciding anchor is the one with most matches (ties: first in the
 * given anchor order; the {@link Verdict}, {@link Decision} and {@link Classification} are the API's, shared with
 * results.json and the report). Zero-variance activations give correlation 0 and zero-norm decoder rows give cosine
 * 0, so neither can produce a match or a NaN.
 */
public final class CrossResolutionMap {
    private CrossResolutionMap() {}

    /** Match thresholds; the defaults are cosine 0.3, correlation 0.5, 3 sub-features. */
    public record Thresholds(double minCosine, double minCorrelation, int minSubFeatures) {
        public static final Thresholds DEFAULT = new Thresholds(0.3, 0.5, 3);

        public Thresholds {
            if (!(minCosine >= -1 && minCosine < 1)) throw new IllegalArgumentException("minCosine must be in [-1, 1), got " + minCosine);
            if (!(minCorrelation >= -1 && minCorrelation < 1)) throw new IllegalArgumentException("minCorrelation must be in [-1, 1), got " + minCorrelation);
            if (minSubFeatures < 1) throw new IllegalArgumentException("minSubFeatures must be >= 1, got " + minSubFeatures);
        }

        public Classification classify(double correlation, double cosine) {
            boolean corr = correlation > minCorrelation;
            boolean geo = cosine > minCosine;
            if (corr && geo) return Classification.MATCH;
            if (corr) return Classification.CO_OCCURRING;
            if (geo) return Classification.GEOMETRIC_ONLY;
            return Classification.UNRELATED;
        }
    }

    public record Pair(int anchor, int fine, double correlation, double cosine, Classification classification) {
        public Pair {
            Objects.requireNonNull(classification, "classification");
            if (Double.isNaN(correlation) || Double.isNaN(cosine)) {
                throw new IllegalArgumentException("NaN in pair (" + anchor + ", " + fine + ")");
            }
        }

        /** Strength used to pick the strongest match: correlation x cosine. */
        public double strength() { return correlation * cosine; }
    }

    /**
     * @param strongest the MATCH pair with the largest correlation x cosine, or null when the anchor has no match
     */
    public record AnchorSummary(int anchor, int matches, int coOccurring, int geometricOnly, Pair strongest) {}

    public record Result(Thresholds thresholds, List<Pair> pairs, List<AnchorSummary> anchors, Verdict verdict) {
        public Result {
            pairs = List.copyOf(pairs);
            anchors = List.copyOf(anchors);
        }

        public long count(Classification c) {
            return pairs.stream().filter(p -> p.classification() == c).count();
        }
    }

    /**
     * Streams prompts one at a time and keeps one {@link StreamingPearson} per (anchor, fine) pair;
     * memory is anchors x fines accumulators, independent of the number of prompts.
     */
    public static final class Accumulator {
        private final int[] anchors;
        private final int[] fines;
        private final Map<Integer, Integer> anchorPos = new HashMap<>();
        private final Map<Integer, Integer> finePos = new HashMap<>();
        private final StreamingPearson[] pairs;
        private final double[] a;
        private final double[] f;

        public Accumulator(int[] anchors, int[] fines) {
            this.anchors = distinctNonNegative("anchors", anchors);
            this.fines = distinctNonNegative("fines", fines);
            for (int i = 0; i < this.anchors.length; i++) anchorPos.put(this.anchors[i], i);
            for (int i = 0; i < this.fines.length; i++) finePos.put(this.fines[i], i);
            pairs = new StreamingPearson[this.anchors.length * this.fines.length];
            for (int i = 0; i < pairs.length; i++) pairs[i] = new StreamingPearson();
            a = new double[this.anchors.length];
            f = new double[this.fines.length];
        }

        /** Adds one prompt's coarse and fine activations; both must describe the same prompt. */
        public void add(PromptActivations coarse, PromptActivations fine) {
            if (coarse.promptIndex() != fine.promptIndex()) {
                throw new IllegalArgumentException("coarse prompt " + coarse.promptIndex()
                        + " paired with fine prompt " + fine.promptIndex());
            }
            Arrays.fill(a, 0.0);
            Arrays.fill(f, 0.0);
            for (int i = 0; i < coarse.size(); i++) {
                Integer pos = anchorPos.get(coarse.featureAt(i));
                if (pos != null) a[pos] = coarse.valueAt(i);
            }
            for (int i = 0; i < fine.size(); i++) {
                Integer pos = finePos.get(fine.featureAt(i));
                if (pos != null) f[pos] = fine.valueAt(i);
            }
            for (int i = 0; i < a.length; i++) {
                for (int j = 0; j < f.length; j++) pairs[i * f.length + j].add(a[i], f[j]);
            }
        }

        public int[] anchors() { return anchors.clone(); }

        public int[] fines() { return fines.clone(); }

        public long prompts() { return pairs.length == 0 ? 0 : pairs[0].count(); }

        /** Correlation of anchor position i with fine position j. */
        double correlation(int i, int j) { return pairs[i * fines.length + j].correlation(); }
    }

    /** Replays two tables with the same prompts in the same order into an accumulator and computes the map. */
    public static Result compute(int[] anchors, int[] fines, FeatureTable coarse, FeatureTable fine,
                                 DecoderRows coarseDecoder, DecoderRows fineDecoder, Thresholds thresholds)
            throws IOException {
        if (coarse.promptCount() != fine.promptCount()) {
            throw new IllegalArgumentException("coarse table has " + coarse.promptCount()
                    + " prompts, fine table " + fine.promptCount());
        }
        Accumulator acc = new Accumulator(anchors, fines);
        double[][] aCols = new double[anchors.length][];
        double[][] fCols = new double[fines.length][];
        for (int i = 0; i < anchors.length; i++) aCols[i] = coarse.values(anchors[i]);
        for (int j = 0; j < fines.length; j++) fCols[j] = fine.values(fines[j]);
        for (int r = 0; r < coarse.promptCount(); r++) {
            if (coarse.promptIndex(r) != fine.promptIndex(r)) {
                throw new IllegalArgumentException("row " + r + ": coarse prompt " + coarse.promptIndex(r)
                        + " vs fine prompt " + fine.promptIndex(r));
            }
            for (int i = 0; i < anchors.length; i++) {
                for (int j = 0; j < fines.length; j++) {
                    acc.pairs[i * fines.length + j].add(aCols[i][r], fCols[j][r]);
                }
            }
        }
        return compute(acc, coarseDecoder, fineDecoder, thresholds);
    }

    /** Computes the map from streamed correlations and decoder rows fetched one per feature. */
    public static Result compute(Accumulator acc, DecoderRows coarseDecoder, DecoderRows fineDecoder,
                                 Thresholds thresholds) throws IOException {
        Objects.requireNonNull(thresholds, "thresholds");
        if (acc.prompts() < 2 && acc.pairs.length > 0) {
            throw new IllegalArgumentException("need at least 2 prompts for correlations, got " + acc.prompts());
        }
        float[][] fineRows = new float[acc.fines.length][];
        for (int j = 0; j < acc.fines.length; j++) fineRows[j] = checkedRow(fineDecoder, "fine", acc.fines[j]);
        List<Pair> pairs = new ArrayList<>();
        List<AnchorSummary> summaries = new ArrayList<>();
        for (int i = 0; i < acc.anchors.length; i++) {
            float[] anchorRow = checkedRow(coarseDecoder, "coarse", acc.anchors[i]);
            int matches = 0, co = 0, geo = 0;
            Pair strongest = null;
            for (int j = 0; j < acc.fines.length; j++) {
                double corr = acc.correlation(i, j);
                double cos = cosine(anchorRow, fineRows[j]);
                Pair p = new Pair(acc.anchors[i], acc.fines[j], corr, cos, thresholds.classify(corr, cos));
                pairs.add(p);
                switch (p.classification()) {
                    case MATCH -> {
                        matches++;
                        if (strongest == null || p.strength() > strongest.strength()) strongest = p;
                    }
                    case CO_OCCURRING -> co++;
                    case GEOMETRIC_ONLY -> geo++;
                    case UNRELATED -> { }
                }
            }
            summaries.add(new AnchorSummary(acc.anchors[i], matches, co, geo, strongest));
        }
        return new Result(thresholds, pairs, summaries, verdict(summaries, thresholds));
    }

    static Verdict verdict(List<AnchorSummary> summaries, Thresholds t) {
        if (summaries.isEmpty()) {
            return new Verdict(Decision.NO_GO, -1, 0, t.minSubFeatures(), "No anchor features were given.");
        }
        AnchorSummary best = summaries.get(0);
        for (AnchorSummary s : summaries) if (s.matches() > best.matches()) best = s;
        String thresholdsText = String.format(java.util.Locale.ROOT, "cosine > %.2f and correlation > %.2f",
                t.minCosine(), t.minCorrelation());
        if (best.matches() >= t.minSubFeatures()) {
            return new Verdict(Decision.GO, best.anchor(), best.matches(), t.minSubFeatures(),
                    "Coarse feature " + best.anchor() + " has " + best.matches() + " fine sub-features with "
                            + thresholdsText + " (at least " + t.minSubFeatures() + " required).");
        }
        return new Verdict(Decision.NO_GO, best.anchor(), best.matches(), t.minSubFeatures(),
                "The best coarse feature " + best.anchor() + " has only " + best.matches()
                        + " fine sub-features with " + thresholdsText + ", fewer than the "
                        + t.minSubFeatures() + " required.");
    }

    /** Cosine similarity; 0 when either vector has zero norm. Lengths must agree. */
    public static double cosine(float[] x, float[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("decoder rows differ in length: " + x.length + " vs " + y.length);
        }
        double dot = 0, nx = 0, ny = 0;
        for (int i = 0; i < x.length; i++) {
            dot += (double) x[i] * y[i];
            nx += (double) x[i] * x[i];
            ny += (double) y[i] * y[i];
        }
        if (nx == 0 || ny == 0) return 0.0;
        return Math.max(-1.0, Math.min(1.0, dot / Math.sqrt(nx * ny)));
    }

    private static float[] checkedRow(DecoderRows rows, String which, int feature) throws IOException {
        float[] row = rows.row(feature);
        if (row == null) throw new IllegalArgumentException(which + " decoder returned no row for feature " + feature);
        for (int i = 0; i < row.length; i++) {
            if (!Float.isFinite(row[i])) {
                throw new IllegalArgumentException(which + " decoder row " + feature + "[" + i + "] = " + row[i]);
            }
        }
        return row;
    }

    private static int[] distinctNonNegative(String name, int[] ids) {
        Objects.requireNonNull(ids, name);
        int[] sorted = ids.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            if (sorted[i] < 0) throw new IllegalArgumentException(name + " contains negative index " + sorted[i]);
            if (i > 0 && sorted[i] == sorted[i - 1]) throw new IllegalArgumentException(name + " lists feature " + sorted[i] + " twice");
        }
        return ids.clone();
    }
}
