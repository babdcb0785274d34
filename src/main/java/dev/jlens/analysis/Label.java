package dev.jlens.analysis;

/** Which side of the contrast a prompt belongs to. */
public enum Label {
    /** Prompts about the concept under study (France). */
    TARGET,
    /** Neutral prompts the target is contrasted against. */
    CONTROL
}
