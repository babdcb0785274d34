package dev.jlens.api;

/** The concept experiment's decision, as results.json writes it: GO when the concept splits into matching fine features. */
public enum Decision {
    /** Some coarse anchor has at least the required number of {@link Classification#MATCH} fine features. */
    GO,
    /** No anchor reaches the required number of matches, or no anchor was given. */
    NO_GO
}
