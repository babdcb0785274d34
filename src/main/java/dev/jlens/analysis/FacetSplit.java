package dev.jlens.analysis;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * What the post's mapping rule cannot see. Its correlation runs over all prompts, so it is dominated by the
 * target/control split: a feature that fires on a fraction q of the target prompts (and no control prompt) has
 * r &le; sqrt(q / (2 - q)) with an ideal anchor, so a one-facet feature (q = 1/8) has r &le; 0.26 and never matches, and
 * it must also reach the candidates' minimum mean over <em>all</em> target prompts. The verdict keeps the post's
 * rule; this class adds three views beside it:
 * <ul>
 *   <li>{@link #targetCorrelations}: the Pearson correlation of anchor and fine activations over the target prompts
 *       only, where the split no longer dominates;</li>
 *   <li>fire-rate-conditional means: a feature's mean over the target prompts it fires on (meanTarget /
 *       fireRateTarget), which {@link #candidates} ranks by instead of the mean over all of them;</li>
 *   <li>the facet split ({@link #compute}): per anchor, the fine features whose decoder leans to the anchor's
 *       (cosine &gt; minCosine) and that fire on a subset of the target prompts (at least minPrompts, at most
 *       maxFireRate of them), with the facet most of those prompts carry.</li>
 * </ul>
 */
public final class FacetSplit {
    private FacetSplit() {}

    /** The facet of a fine feature whose firing target prompts are spread over several facets. */
    public static final String MIXED = FacetProfile.MIXED;

    /**
     * @param maxFireRate       the most of the target prompts a fine feature may fire on to be a facet-level split, in (0, 1]
     * @param minPrompts        the fewest target prompts it must fire on, &ge; 1
     * @param minCosine         decoder cosine with the anchor it needs
     * @param minMeanWhenFiring its least mean activation over the target prompts it fires on
     * @param minFacetShare     the share of its firing target prompts one facet needs to name it, in (0, 1]
     */
    public record Options(double maxFireRate, int minPrompts, double minCosine, double minMeanWhenFiring, double minFacetShare) {
        public Options {
            if (!(maxFireRate > 0 && maxFireRate <= 1)) throw new IllegalArgumentException("maxFireRate must be in (0, 1], got " + maxFireRate);
            if (minPrompts < 1) throw new IllegalArgumentException("minPrompts must be >= 1, got " + minPrompts);
            if (!(minCosine >= -1 && minCosine < 1)) throw new IllegalArgumentException("minCosine must be in [-1, 1), got " + minCosine);
            if (!(minMeanWhenFiring >= 0)) throw new IllegalArgumentException("minMeanWhenFiring must be >= 0, got " + minMeanWhenFiring);
            if (!(minFacetShare > 0 && minFacetShare <= 1)) throw new IllegalArgumentException("minFacetShare must be in (0, 1], got " + minFacetShare);
        }

        /** At most half the target prompts, at least 3, the map's cosine threshold, the candidates' minimum activation, a facet holding half. */
        public static Options defaults(double minCosine, double minMeanWhenFiring) {
            return new Options(0.5, 3, minCosine, minMeanWhenFiring, 0.5);
        }
    }

    /**
     * One fine feature that splits off a facet-level part of an anchor.
     *
     * @param facet             the facet of most of its firing target prompts, or {@link #MIXED} when none holds minFacetShare
     * @param facetShare        the share of its firing target prompts that carry {@code facet}'s label (of the top facet when mixed)
     * @param facetCoverage     the share of that facet's target prompts it fires on
     * @param fireRateTarget    the share of all target prompts it fires on
     * @param fireRateControl   the share of control prompts it fires on
     * @param meanWhenFiring    its mean activation over the target prompts it fires on
     * @param cosine            decoder cosine with the anchor
     * @param correlation       Pearson correlation with the anchor over all prompts (the post's rule)
     * @param targetCorrelation Pearson correlation with the anchor over the target prompts only
     */
    public record Row(int anchor, int fine, String facet, double facetShare, double facetCoverage, double fireRateTarget,
                      double fireRateControl, double meanWhenFiring, double cosine, double correlation, double targetCorrelation) {
        public Row {
            Objects.requireNonNull(facet, "facet");
        }
    }

    /** corr[i][j]: Pearson correlation of anchor i and fine j over the target prompts only (0 when either is constant there). */
    public static double[][] targetCorrelations(int[] anchors, int[] fines, FeatureTable coarse, FeatureTable fine) {
        return correlations(anchors, fines, coarse, fine, true);
    }

    private static double[][] correlations(int[] anchors, int[] fines, FeatureTable coarse, FeatureTable fine, boolean targetOnly) {
        requireSameRows(coarse, fine);
        double[][] aCols = new double[anchors.length][], fCols = new double[fines.length][];
        for (int i = 0; i < anchors.length; i++) aCols[i] = coarse.values(anchors[i]);
        for (int j = 0; j < fines.length; j++) fCols[j] = fine.values(fines[j]);
        double[][] out = new double[anchors.length][fines.length];
        for (int i = 0; i < anchors.length; i++) {
            for (int j = 0; j < fines.length; j++) {
                StreamingPearson p = new StreamingPearson();
                for (int r = 0; r < coarse.promptCount(); r++) {
                    if (!targetOnly || coarse.label(r) == Label.TARGET) p.add(aCols[i][r], fCols[j][r]);
                }
                out[i][j] = p.correlation();
            }
        }
        return out;
    }

    /** mean over the target prompts a feature fires on: meanTarget / fireRateTarget; NaN when it never fires there. */
    public static double meanWhenFiring(FeatureContrast s) {
        return s.fireRateTarget() > 0 ? s.meanTarget() / s.fireRateTarget() : Double.NaN;
    }

    /**
     * The fine features worth testing for a facet split: the {@code k} most selective among those that fire on at least
     * {@code options.minPrompts()} and at most {@code options.maxFireRate()} of the target prompts with a mean of at least
     * {@code options.minMeanWhenFiring()} over those prompts (ties: larger conditional mean, then smaller index).
     */
    public static int[] candidates(List<FeatureContrast> stats, int nTarget, Options options, int k) {
        Objects.requireNonNull(stats, "stats");
        if (k < 0) throw new IllegalArgumentException("k must be >= 0, got " + k);
        return stats.stream()
                .filter(s -> s.fireRateTarget() * nTarget >= options.minPrompts() - 1e-9 && s.fireRateTarget() <= options.maxFireRate())
                .filter(s -> meanWhenFiring(s) >= options.minMeanWhenFiring())
                .sorted(Comparator.comparingDouble(FeatureContrast::selectivity).reversed()
                        .thenComparing(Comparator.comparingDouble(FacetSplit::meanWhenFiring).reversed())
                        .thenComparingInt(FeatureContrast::feature))
                .limit(k)
                .mapToInt(FeatureContrast::feature)
                .toArray();
    }

    /**
     * The facet split of every anchor over {@code candidates} (see {@link #candidates}): rows with cosine &gt;
     * minCosine and a fire rate on the target prompts in [minPrompts / nTarget, maxFireRate], per anchor in the given
     * order, each anchor's rows by descending cosine (ties: smaller fine index).
     */
    public static List<Row> compute(int[] anchors, int[] candidates, FeatureTable coarse, FeatureTable fine, DecoderRows coarseDecoder,
                                    DecoderRows fineDecoder, Options options) throws IOException {
        Objects.requireNonNull(options, "options");
        requireSameRows(coarse, fine);
        List<String> facets = fine.targetFacets();
        int nTarget = fine.targetCount(), nControl = fine.controlCount();
        int[] facetOf = new int[fine.promptCount()];
        int[] facetSize = new int[facets.size()];
        for (int r = 0; r < facetOf.length; r++) {
            facetOf[r] = fine.label(r) == Label.TARGET && fine.facet(r) != null ? facets.indexOf(fine.facet(r)) : -1;
            if (facetOf[r] >= 0) facetSize[facetOf[r]]++;
        }
        double[][] all = correlations(anchors, candidates, coarse, fine, false);
        double[][] within = correlations(anchors, candidates, coarse, fine, true);
        float[][] fineRows = new float[candidates.length][];
        for (int j = 0; j < candidates.length; j++) fineRows[j] = fineDecoder.row(candidates[j]);
        List<Row> out = new ArrayList<>();
        for (int i = 0; i < anchors.length; i++) {
            float[] anchorRow = coarseDecoder.row(anchors[i]);
            List<Row> rows = new ArrayList<>();
            for (int j = 0; j < candidates.length; j++) {
                double cos = CrossResolutionMap.cosine(anchorRow, fineRows[j]);
                if (!(cos > options.minCosine())) continue;
                int[] fired = fine.firedRows(candidates[j]);
                float[] values = fine.firedValues(candidates[j]);
                int firedT = 0, firedC = 0;
                double sumT = 0;
                int[] byFacet = new int[facets.size()];
                for (int k = 0; k < fired.length; k++) {
                    int r = fired[k];
                    if (fine.label(r) == Label.TARGET) {
                        firedT++;
                        sumT += values[k];
                        if (facetOf[r] >= 0) byFacet[facetOf[r]]++;
                    } else {
                        firedC++;
                    }
                }
                double rate = (double) firedT / nTarget;
                if (firedT < options.minPrompts() || rate > options.maxFireRate()) continue;
                int best = 0;
                for (int f = 1; f < byFacet.length; f++) if (byFacet[f] > byFacet[best]) best = f;
                double share = facets.isEmpty() ? 0 : (double) byFacet[best] / firedT;
                String facet = !facets.isEmpty() && share >= options.minFacetShare() ? facets.get(best) : MIXED;
                double coverage = facets.isEmpty() ? 0 : (double) byFacet[best] / facetSize[best];
                rows.add(new Row(anchors[i], candidates[j], facet, share, coverage, rate, nControl == 0 ? 0 : (double) firedC / nControl,
                        sumT / firedT, cos, all[i][j], within[i][j]));
            }
            rows.sort(Comparator.comparingDouble(Row::cosine).reversed().thenComparingInt(Row::fine));
            out.addAll(rows);
        }
        return List.copyOf(out);
    }

    private static void requireSameRows(FeatureTable coarse, FeatureTable fine) {
        if (coarse.promptCount() != fine.promptCount()) {
            throw new IllegalArgumentException("coarse table has " + coarse.promptCount() + " prompts, fine table " + fine.promptCount());
        }
        for (int r = 0; r < coarse.promptCount(); r++) {
            if (coarse.promptIndex(r) != fine.promptIndex(r) || coarse.label(r) != fine.label(r)) {
                throw new IllegalArgumentException("row " + r + ": coarse prompt " + coarse.promptIndex(r) + " vs fine prompt " + fine.promptIndex(r));
            }
        }
    }
}
