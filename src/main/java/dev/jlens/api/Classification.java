package dev.jlens.api;

/**
 * How a (coarse anchor, fine feature) pair relates, given the match thresholds: {@code MATCH} (correlation and decoder
 * cosine above both), {@code CO_OCCURRING} (correlation only), {@code GEOMETRIC_ONLY} (cosine only), {@code UNRELATED}.
 * "Correlation" is the Pearson correlation of the two features' per-prompt activations over all prompts, "cosine" the
 * cosine similarity of their decoder rows; both comparisons are strict ({@code >}).
 */
public enum Classification {
    /** Correlation and cosine both above their thresholds: the fine feature counts toward the anchor's matches. */
    MATCH,
    /** Correlation above its threshold, cosine not: fires on the same prompts but writes a different direction. */
    CO_OCCURRING,
    /** Cosine above its threshold, correlation not: a similar direction that fires on other prompts. */
    GEOMETRIC_ONLY,
    /** Neither above its threshold. */
    UNRELATED
}
