package dev.jlens.atlas.corpus;

/** Text to token ids, WITHOUT a beginning-of-sequence token (the context cutter adds it). */
@FunctionalInterface
public interface Tokenizer {
    /** The ids of {@code text}, no BOS; an empty array for text with no tokens. */
    int[] tokenize(String text);
}
