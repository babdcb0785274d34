package dev.jlens.api;

import dev.jlens.sae.SparseCodes;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Per row, the active SAE features (indices ascending) and their activations. Immutable, on the heap. */
public final class FeatureActivations {
    private final SparseCodes codes;

    FeatureActivations(SparseCodes codes) { this.codes = codes; }

    /**
     * Rows encoded.
     *
     * @return one per activation row
     */
    public int rows() { return codes.nTokens(); }
    /**
     * The SAE's width.
     *
     * @return d_sae: feature indices are in [0, width)
     */
    public int width() { return codes.dSae(); }
    /**
     * The active features of a row.
     *
     * @param row a row index
     * @return their indices, ascending (a fresh array)
     */
    public int[] features(int row) { return codes.indices(row); }
    /**
     * The activations of a row's active features.
     *
     * @param row a row index
     * @return their activations, in the order of {@link #features} (a fresh array)
     */
    public float[] values(int row) { return codes.values(row); }

    /**
     * A (feature, activation) pair.
     *
     * @param feature    the feature index
     * @param activation its activation
     */
    public record Feature(int feature, float activation) {}

    /**
     * The strongest features of a row.
     *
     * @param row a row index
     * @param k   how many
     * @return at most {@code k} features, strongest first
     */
    public List<Feature> top(int row, int k) {
        int[] f = codes.indices(row);
        float[] v = codes.values(row);
        List<Feature> all = new ArrayList<>(f.length);
        for (int i = 0; i < f.length; i++) all.add(new Feature(f[i], v[i]));
        all.sort(Comparator.comparingDouble((Feature x) -> -x.activation()).thenComparingInt(Feature::feature));
        return all.subList(0, Math.min(k, all.size()));
    }
}
