package dev.jlens.util;

/** Progress of a long job in units (prompts, tokens, rows). Implementations must be cheap. */
@FunctionalInterface
public interface Progress {
    void update(String stage, long done, long total);

    Progress NONE = (stage, done, total) -> { };
}
