package dev.jlens.api;

import dev.jlens.activations.TokenizedPrompts;
import dev.jlens.llama.Activations;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Captured residual rows of one layer: float32 {@code [rows x dModel]} off-heap, rows in prompt then position order,
 * BOS rows included (see {@link #isBos}). From {@link LensSession#capture} or read back from a capture folder with
 * {@link CaptureFolder#read}. Owns its memory until {@link #close()}; accessors throw after close.
 */
public final class LayerActivations implements AutoCloseable {
    private final AutoCloseable owner;
    private final MemorySegment data;
    private final int rows;
    private final int dModel;
    private final int layer;
    private final int bos;
    private final int[] prompt;
    private final int[] position;
    private final int[] token;
    private volatile boolean closed;

    /** @param bos the BOS id the model prepends, -1 for none */
    LayerActivations(Activations a, int layer, int bos) {
        this(a, a.layer(layer), a.rows(), a.nEmbd(), layer, bos, rowIndex(a, 0), rowIndex(a, 1), rowIndex(a, 2));
    }

    /** Rows in {@code data} owned by {@code owner} (closed with this); {@code bos}: the BOS id at position 0, -1 for none. */
    LayerActivations(AutoCloseable owner, MemorySegment data, int rows, int dModel, int layer, int bos, int[] prompt, int[] position, int[] token) {
        this.owner = owner;
        this.data = data;
        this.rows = rows;
        this.dModel = dModel;
        this.layer = layer;
        this.bos = bos;
        this.prompt = prompt;
        this.position = position;
        this.token = token;
    }

    private static int[] rowIndex(Activations a, int which) {
        int[] out = new int[a.rows()];
        for (int r = 0; r < out.length; r++) out[r] = which == 0 ? a.promptOf(r) : which == 1 ? a.positionOf(r) : a.tokenOf(r);
        return out;
    }

    /** Reads a capture folder's rows: {@code arena} owns {@code data} and is closed with this. */
    static LayerActivations of(Arena arena, MemorySegment data, int rows, int dModel, int layer, int bos, int[] prompt, int[] position, int[] token) {
        return new LayerActivations(arena::close, data, rows, dModel, layer, bos, prompt, position, token);
    }

    private void open() {
        if (closed) throw new IllegalStateException("these activations are closed");
    }

    /**
     * The number of rows: every token of every prompt, BOS included.
     *
     * @return the row count, &gt;= 0
     * @throws IllegalStateException after {@link #close()}
     */
    public int rows() { open(); return rows; }

    /**
     * The row width.
     *
     * @return d_model, the model's residual stream width (2304 for Gemma 2 2B)
     * @throws IllegalStateException after {@link #close()}
     */
    public int dModel() { open(); return dModel; }

    /**
     * The layer captured.
     *
     * @return the 0-based block whose output the rows are ({@code blocks.<layer>.hook_resid_post})
     * @throws IllegalStateException after {@link #close()}
     */
    public int layer() { open(); return layer; }

    /**
     * The matrix itself, without a copy.
     *
     * @return a view of {@code rows() * dModel()} float32 values, row-major (read them with
     *         {@link ValueLayout#JAVA_FLOAT}); read it only, and not after
     *         {@link #close()} (the memory is freed then)
     * @throws IllegalStateException after {@link #close()}
     */
    public MemorySegment data() { open(); return data; }

    /**
     * One row, copied to the heap.
     *
     * @param r the row, in [0, {@link #rows()})
     * @return a new array of {@link #dModel()} values; changing it does not change these activations
     * @throws IndexOutOfBoundsException when {@code r} is outside [0, rows)
     * @throws IllegalStateException after {@link #close()}
     */
    public float[] row(int r) {
        open();
        if (r < 0 || r >= rows) throw new IndexOutOfBoundsException("row " + r + " of " + rows);
        return data.asSlice(4L * r * dModel, 4L * dModel).toArray(ValueLayout.JAVA_FLOAT);
    }

    /**
     * Which prompt a row belongs to.
     *
     * @param row the row, in [0, {@link #rows()})
     * @return the prompt's index in the list given to {@link LensSession#capture} (also for a batch of
     *         {@link LensSession#captureEach}), or the prompt index of the capture folder's tokens.csv
     * @throws ArrayIndexOutOfBoundsException when {@code row} is outside [0, rows)
     * @throws IllegalStateException after {@link #close()}
     */
    public int prompt(int row) { open(); return prompt[row]; }

    /**
     * Where in its prompt a row's token is.
     *
     * @param row the row, in [0, {@link #rows()})
     * @return the token's position within its prompt, from 0 (the BOS, when the model prepends one)
     * @throws ArrayIndexOutOfBoundsException when {@code row} is outside [0, rows)
     * @throws IllegalStateException after {@link #close()}
     */
    public int position(int row) { open(); return position[row]; }

    /**
     * The token a row was computed at.
     *
     * @param row the row, in [0, {@link #rows()})
     * @return the token id in the model's vocabulary ({@link LensModel#tokenText} gives its text)
     * @throws ArrayIndexOutOfBoundsException when {@code row} is outside [0, rows)
     * @throws IllegalStateException after {@link #close()}
     */
    public int token(int row) { open(); return token[row]; }

    /**
     * Whether the row is the BOS the model prepended: row 0 of its prompt, when the model prepends BOS (decided by
     * position, so a BOS id that is also an ordinary word keeps its other rows); SAE statistics leave such rows out.
     *
     * @param row the row, in [0, {@link #rows()})
     * @return true for the prepended BOS row of a prompt, false for every other row and for a model that prepends none
     * @throws ArrayIndexOutOfBoundsException when {@code row} is outside [0, rows)
     * @throws IllegalStateException after {@link #close()}
     */
    public boolean isBos(int row) { open(); return TokenizedPrompts.isBosRow(position[row], token[row], bos); }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            owner.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing captured activations: " + e.getMessage(), e);
        }
    }
}
