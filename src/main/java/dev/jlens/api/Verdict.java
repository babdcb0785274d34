package dev.jlens.api;

import java.util.Objects;

/**
 * The GO/NO-GO verdict of a concept experiment: GO when the best anchor has at least {@code required} fine features
 * above both the cosine and the correlation thresholds. The one definition: the analysis decides it, results.json
 * records it, the report shows it and {@link Experiment.Results#verdict()} returns it. Immutable.
 *
 * @param decision GO or NO_GO
 * @param anchor   the coarse feature the verdict is about (the one with most matches), -1 when there was none
 * @param matches  its matching fine features, >= 0
 * @param required the matches GO needs, >= 1
 * @param reason   one sentence saying why, with the numbers
 */
public record Verdict(Decision decision, int anchor, int matches, int required, String reason) {
    /** Checks the decision and reason are given and the counts are possible. */
    public Verdict {
        Objects.requireNonNull(decision, "decision");
        Objects.requireNonNull(reason, "reason");
        if (matches < 0 || required < 1) {
            throw new IllegalArgumentException("verdict needs matches >= 0 and required >= 1, got " + matches + ", " + required);
        }
    }

    /**
     * Whether the decision is GO.
     *
     * @return true for {@link Decision#GO}, false for {@link Decision#NO_GO}
     */
    public boolean go() { return decision == Decision.GO; }
}
