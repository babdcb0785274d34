package dev.jlens.api;

/**
 * How a (coarse anchor, fine feature) pair relates, given the match thresholds: {@code MATCH} (correlation and decoder
 * cosine above both), {@code CO_OCCURRING} (correlation only), {@code GEOMETRIC_ONLY} (cosine only), {@code UNRELATED}.
 */
public enum Classification { MATCH, CO_OCCURRING, GEOMETRIC_ONLY, UNRELATED }
