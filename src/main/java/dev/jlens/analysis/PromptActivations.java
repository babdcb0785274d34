package dev.jlens.analysis;

import java.util.Arrays;
import java.util.Objects;

/**
 * One prompt's aggregated SAE feature activations in sparse form: {@code values[i]} is the activation of
 * feature {@code featureIndices[i]}; every feature not listed is 0.
 *
 * <p>Values must be finite and non-negative: JumpReLU outputs are {@code >= 0} and max/mean/last
 * aggregation keeps them so; a negative value means the caller mixed up inputs, and would also break the
 * selectivity ratio. Arrays are copied, so the record is immutable.
 *
 * @param promptIndex position of the prompt in its prompt set (unique within one table)
 * @param label target or control
 * @param facet facet label of the prompt (e.g. "cuisine"), or null when the prompt has none
 */
public record PromptActivations(int promptIndex, Label label, String facet, int[] featureIndices, float[] values) {
    public PromptActivations {
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(featureIndices, "featureIndices");
        Objects.requireNonNull(values, "values");
        if (promptIndex < 0) {
            throw new IllegalArgumentException("promptIndex must be >= 0, got " + promptIndex);
        }
        if (facet != null && facet.isBlank()) {
            throw new IllegalArgumentException("prompt " + promptIndex + ": facet is blank; use null for no facet");
        }
        if (featureIndices.length != values.length) {
            throw new IllegalArgumentException("prompt " + promptIndex + ": " + featureIndices.length
                    + " feature indices but " + values.length + " values");
        }
        featureIndices = featureIndices.clone();
        values = values.clone();
        for (int i = 0; i < values.length; i++) {
            if (featureIndices[i] < 0) {
                throw new IllegalArgumentException("prompt " + promptIndex + ": featureIndices[" + i + "] = "
                        + featureIndices[i] + " is negative");
            }
            float v = values[i];
            if (!Float.isFinite(v) || v < 0f) {
                throw new IllegalArgumentException("prompt " + promptIndex + ": value of feature "
                        + featureIndices[i] + " is " + v + "; activations must be finite and >= 0");
            }
        }
        int[] sorted = featureIndices.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                throw new IllegalArgumentException("prompt " + promptIndex + ": feature " + sorted[i] + " listed twice");
            }
        }
    }

    /** A copy of the feature indices. */
    @Override
    public int[] featureIndices() { return featureIndices.clone(); }

    /** A copy of the values. */
    @Override
    public float[] values() { return values.clone(); }

    /** Number of listed (feature, value) entries. */
    public int size() { return values.length; }

    /** Feature index of entry {@code i}, without copying. */
    public int featureAt(int i) { return featureIndices[i]; }

    /** Value of entry {@code i}, without copying. */
    public float valueAt(int i) { return values[i]; }

    /** Value equality over the array contents (records compare arrays by reference otherwise). */
    @Override
    public boolean equals(Object o) {
        return o instanceof PromptActivations p && p.promptIndex == promptIndex && p.label == label
                && Objects.equals(p.facet, facet) && Arrays.equals(p.featureIndices, featureIndices)
                && Arrays.equals(p.values, values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(promptIndex, label, facet, Arrays.hashCode(featureIndices), Arrays.hashCode(values));
    }

    @Override
    public String toString() {
        return "PromptActivations[prompt=" + promptIndex + ", " + label + ", facet=" + facet + ", active="
                + values.length + "]";
    }

    /** The activation of {@code feature} on this prompt, 0 when not listed. */
    public float valueOf(int feature) {
        for (int i = 0; i < featureIndices.length; i++) {
            if (featureIndices[i] == feature) return values[i];
        }
        return 0f;
    }
}
