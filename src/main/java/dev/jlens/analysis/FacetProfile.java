package dev.jlens.analysis;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which facet of the target concept a feature responds to: its mean activation over the target prompts
 * of each facet (zeros included; control prompts and target prompts without a facet are ignored).
 *
 * <p>Naming rule: the likely facet is the argmax facet when its mean is at least {@code dominance} times
 * the runner-up's mean (default 1.5); otherwise {@link #MIXED}. A feature silent on every facet gets
 * {@link #NONE}. With a single facet the argmax wins whenever it is positive.
 *
 * @param feature SAE feature index
 * @param meanByFacet facet → mean activation, facets in sorted order (unmodifiable)
 * @param likelyFacet the named facet, {@link #MIXED} or {@link #NONE}
 * @param dominanceRatio best mean / runner-up mean (infinity when the runner-up is 0, 0 when silent)
 */
public record FacetProfile(int feature, Map<String, Double> meanByFacet, String likelyFacet, double dominanceRatio) {
    public static final String MIXED = "mixed";
    public static final String NONE = "none";
    public static final double DEFAULT_DOMINANCE = 1.5;

    public FacetProfile {
        Objects.requireNonNull(meanByFacet, "meanByFacet");
        Objects.requireNonNull(likelyFacet, "likelyFacet");
        meanByFacet = Collections.unmodifiableMap(new LinkedHashMap<>(meanByFacet));
    }

    /** Profiles of every active feature of {@code table}, ascending by feature. */
    public static List<FacetProfile> compute(FeatureTable table, double dominance) {
        return compute(table, table.activeFeatures(), dominance);
    }

    /** Profiles of the given features (never-active ones get all-zero means and {@link #NONE}). */
    public static List<FacetProfile> compute(FeatureTable table, int[] features, double dominance) {
        Objects.requireNonNull(table, "table");
        if (!(dominance >= 1.0) || Double.isInfinite(dominance)) {
            throw new IllegalArgumentException("dominance must be a finite ratio >= 1, got " + dominance);
        }
        List<String> facets = table.targetFacets();
        if (facets.isEmpty()) throw new IllegalArgumentException("no target prompt carries a facet label");
        for (String f : facets) {
            if (f.equals(MIXED) || f.equals(NONE)) {
                throw new IllegalArgumentException("facet label '" + f + "' collides with a reserved verdict name");
            }
        }
        int nFacets = facets.size();
        int[] facetOfRow = new int[table.promptCount()];
        int[] facetSize = new int[nFacets];
        for (int r = 0; r < facetOfRow.length; r++) {
            String f = table.facet(r);
            facetOfRow[r] = table.label(r) == Label.TARGET && f != null ? Collections.binarySearch(facets, f) : -1;
            if (facetOfRow[r] >= 0) facetSize[facetOfRow[r]]++;
        }
        List<FacetProfile> out = new ArrayList<>(features.length);
        for (int feature : features) {
            double[] sums = new double[nFacets];
            int[] rows = table.firedRows(feature);
            float[] values = table.firedValues(feature);
            for (int k = 0; k < rows.length; k++) {
                int f = facetOfRow[rows[k]];
                if (f >= 0) sums[f] += values[k];
            }
            Map<String, Double> means = new LinkedHashMap<>();
            int best = -1, second = -1;
            for (int f = 0; f < nFacets; f++) {
                double m = sums[f] / facetSize[f];
                sums[f] = m;
                means.put(facets.get(f), m);
                if (best < 0 || m > sums[best]) { second = best; best = f; }
                else if (second < 0 || m > sums[second]) second = f;
            }
            double bestMean = sums[best];
            double secondMean = second < 0 ? 0.0 : sums[second];
            String likely;
            double ratio;
            if (bestMean <= 0) {
                likely = NONE;
                ratio = 0.0;
            } else {
                ratio = secondMean > 0 ? bestMean / secondMean : Double.POSITIVE_INFINITY;
                likely = ratio >= dominance ? facets.get(best) : MIXED;
            }
            out.add(new FacetProfile(feature, means, likely, ratio));
        }
        return List.copyOf(out);
    }
}
