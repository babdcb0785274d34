package dev.jlens.atlas;

import java.io.Serializable;

/**
 * The tokens around an example's max token with one feature's activation on each: {@code tokens[i]} is the
 * context's token at index {@code start + i}; BOS shows 0 (it never counts).
 */
public record Window(int start, int[] tokens, float[] values) implements Serializable {
    public Window {
        if (start < 0 || tokens.length != values.length) throw new IllegalArgumentException("window at " + start + ": " + tokens.length + " tokens, " + values.length + " values");
    }
}
