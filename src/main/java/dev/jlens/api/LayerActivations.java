package dev.jlens.api;

import dev.jlens.activations.TokenizedPrompts;
import dev.jlens.llama.Activations;

import java.lang.foreign.MemorySegment;

/**
 * Captured residual rows of one layer: float32 {@code [rows x dModel]} off-heap, rows in prompt then position order,
 * BOS rows included (see {@link #isBos}). Owns its memory until {@link #close()}; accessors throw after close.
 */
public final class LayerActivations implements AutoCloseable {
    private final Activations a;
    private final int layer;
    private final int bos;

    /** @param bos the BOS id the model prepends, -1 for none */
    LayerActivations(Activations a, int layer, int bos) {
        this.a = a;
        this.layer = layer;
        this.bos = bos;
    }

    /** Rows: every token of every prompt, BOS included. */
    public int rows() { return a.rows(); }
    /** Row width d_model. */
    public int dModel() { return a.nEmbd(); }
    /** The layer captured (0-based; its output, {@code blocks.layer.hook_resid_post}). */
    public int layer() { return layer; }

    /** The matrix (a read view; valid until close). */
    public MemorySegment data() { return a.layer(layer); }

    /** A copy of row {@code r}, length d_model. */
    public float[] row(int r) { return a.row(layer, r); }

    /** Index of the row's prompt in the list given to capture. */
    public int prompt(int row) { return a.promptOf(row); }
    /** The row's token position within its prompt, from 0. */
    public int position(int row) { return a.positionOf(row); }
    /** The row's token id. */
    public int token(int row) { return a.tokenOf(row); }
    /**
     * Whether the row is the BOS the model prepended: row 0 of its prompt, when the model prepends BOS (decided by
     * position, so a BOS id that is also an ordinary word keeps its other rows); SAE statistics leave such rows out.
     */
    public boolean isBos(int row) { return TokenizedPrompts.isBosRow(a.positionOf(row), a.tokenOf(row), bos); }

    @Override
    public void close() { a.close(); }
}
