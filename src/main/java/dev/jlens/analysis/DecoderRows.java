package dev.jlens.analysis;

import java.io.IOException;

/**
 * Supplies one decoder row (the feature's direction in residual space, length d_model) by feature index.
 * Lets the cross-resolution map read only the rows it needs instead of a 16k x 262k similarity matrix.
 */
@FunctionalInterface
public interface DecoderRows {
    float[] row(int feature) throws IOException;
}
