package dev.jlens.llama;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Captured residual-stream rows, off-heap: for each captured layer a row-major float32 matrix
 * [rows x nEmbd], rows in prompt order (BOS rows included), with per-row metadata (prompt index,
 * position in the prompt, token id). Owns its memory: close it (or use try-with-resources); after
 * close every accessor throws IllegalStateException. Not thread-safe for concurrent close.
 */
public final class Activations implements AutoCloseable {
    private final Arena arena;
    private final int[] layers;
    private final MemorySegment[] data;
    private final int nEmbd;
    private final int rows;
    private final int[] prompt;
    private final int[] position;
    private final int[] token;
    private final int firstPrompt;

    Activations(Arena arena, int[] layers, MemorySegment[] data, int nEmbd, int[] prompt, int[] position, int[] token) {
        this.arena = arena;
        this.layers = layers;
        this.data = data;
        this.nEmbd = nEmbd;
        this.rows = token.length;
        this.prompt = prompt;
        this.position = position;
        this.token = token;
        this.firstPrompt = rows == 0 ? 0 : prompt[0];
    }

    public int rows() { return rows; }
    public int nEmbd() { return nEmbd; }
    public int[] layers() { return layers.clone(); }

    /** The [rows x nEmbd] float32 matrix of one captured layer (a view; valid until close). */
    public MemorySegment layer(int layer) {
        if (!arena.scope().isAlive()) throw new IllegalStateException("activations are closed");
        for (int i = 0; i < layers.length; i++) if (layers[i] == layer) return data[i];
        throw new IllegalArgumentException("layer " + layer + " was not captured (captured: " + Arrays.toString(layers) + ")");
    }

    /** The only (or first) captured layer. */
    public MemorySegment data() { return layer(layers[0]); }

    public float get(int layer, int row, int col) {
        if (row < 0 || row >= rows || col < 0 || col >= nEmbd) throw new IndexOutOfBoundsException("row " + row + ", col " + col);
        return layer(layer).getAtIndex(JAVA_FLOAT, (long) row * nEmbd + col);
    }

    public float[] row(int layer, int row) {
        if (row < 0 || row >= rows) throw new IndexOutOfBoundsException("row " + row);
        return layer(layer).asSlice((long) row * nEmbd * 4, (long) nEmbd * 4).toArray(JAVA_FLOAT);
    }

    /** Index (in the caller's prompt list) of the prompt each row belongs to. */
    public int promptOf(int row) { return prompt[row]; }
    public int positionOf(int row) { return position[row]; }
    public int tokenOf(int row) { return token[row]; }
    public int firstPrompt() { return firstPrompt; }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
