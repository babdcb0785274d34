package dev.jlens.api;

import java.util.Objects;

/**
 * What the steering study concluded: whether steering with the coarse and a fine feature together targets the fine
 * feature's facet better than the coarse feature alone at equal fluency. The one definition: the study decides it,
 * steering.json records it and {@link SteeringStudy.Outcome#verdict()} returns it. Immutable.
 *
 * @param decision what was shown
 * @param strength the strength the sentence is about
 * @param sentence the verdict in one sentence, with the numbers and intervals
 * @param rule     the definitions of "better" and "equal fluency" used
 */
public record SteeringVerdict(Decision decision, double strength, String sentence, String rule) {
    /** What a steering comparison can conclude, as steering.json writes it. */
    public enum Decision {
        /** coarse+fine targeted the facet better than coarse alone at equal fluency */
        MULTI_RESOLUTION_BETTER,
        /** no strength showed that */
        NOT_SHOWN
    }

    /** Checks decision, sentence and rule are given. */
    public SteeringVerdict {
        Objects.requireNonNull(decision, "decision");
        Objects.requireNonNull(sentence, "sentence");
        Objects.requireNonNull(rule, "rule");
    }
}
