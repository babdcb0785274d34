package dev.jlens.api;

import java.util.Objects;

/**
 * One cell of the cross-resolution map: a coarse anchor and a fine feature, as results.json, pairs.csv, the report's
 * scatter plot and the API all see it. Immutable.
 *
 * @param anchor            the coarse feature
 * @param fine              the fine feature
 * @param correlation       Pearson correlation of their per-prompt activations over all prompts (the verdict's rule)
 * @param cosine            cosine of their decoder rows
 * @param classification    what the thresholds make of the two
 * @param targetCorrelation Pearson correlation over the target prompts only (beside the rule)
 */
public record FeaturePair(int anchor, int fine, double correlation, double cosine, Classification classification,
                          double targetCorrelation) {
    /** Checks the classification is given. */
    public FeaturePair {
        Objects.requireNonNull(classification, "classification");
    }
}
