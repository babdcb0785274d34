package dev.jlens.kernels;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;

/**
 * Blocked JumpReLU encode X[tokens x d_in] · W_enc[d_in x d_sae] over column tiles, one task per tile on
 * an owned ForkJoinPool. Tokens are processed in blocks so that a tile's dense pre-activations
 * (block x tileWidth floats) stay in cache; only active pairs leave the kernel.
 */
public final class TiledEncoder implements AutoCloseable {
    /** Result for one token block: per token, active feature indices (ascending) and values. */
    public record Result(int[][] indices, float[][] values) {}

    private final Kernels kernels;
    private final Weights w;
    private final MemorySegment bias;
    private final MemorySegment threshold;
    private final int tileWidth;
    private final int tokenBlock;
    private final ForkJoinPool pool;

    /**
     * @param tileWidth columns per tile (256-1024 keeps block x tile in L2)
     * @param tokenBlock tokens per block
     * @param threads worker threads (1 runs tiles in the pool's single worker)
     */
    public TiledEncoder(Kernels kernels, Weights w, MemorySegment bias, MemorySegment threshold,
                        int tileWidth, int tokenBlock, int threads) {
        this.kernels = Objects.requireNonNull(kernels, "kernels");
        this.w = Objects.requireNonNull(w, "w");
        if (bias.byteSize() != 4L * w.cols()) throw new IllegalArgumentException("bias has " + bias.byteSize() / 4 + " floats, W has " + w.cols() + " columns");
        if (threshold.byteSize() != 4L * w.cols()) throw new IllegalArgumentException("threshold has " + threshold.byteSize() / 4 + " floats, W has " + w.cols() + " columns");
        if (tileWidth <= 0 || tokenBlock <= 0 || threads <= 0)
            throw new IllegalArgumentException("tileWidth, tokenBlock, threads must be > 0: " + tileWidth + ", " + tokenBlock + ", " + threads);
        this.bias = bias;
        this.threshold = threshold;
        this.tileWidth = tileWidth;
        this.tokenBlock = tokenBlock;
        this.pool = new ForkJoinPool(threads);
    }

    public Kernels kernels() { return kernels; }

    public int tokenBlock() { return tokenBlock; }

    /** Encodes up to {@link #tokenBlock()} tokens; x holds nTokens rows of d_in floats. */
    public Result encodeBlock(float[] x, int nTokens) {
        if (nTokens <= 0 || nTokens > tokenBlock) throw new IllegalArgumentException("nTokens must be in 1.." + tokenBlock + ": " + nTokens);
        if (x.length < (long) nTokens * w.rows()) throw new IllegalArgumentException("x has " + x.length + " floats, need " + (long) nTokens * w.rows());
        int dSae = w.cols();
        List<Future<ActiveBuffer>> parts = new ArrayList<>();
        for (int c0 = 0; c0 < dSae; c0 += tileWidth) {
            int a = c0, b = Math.min(dSae, c0 + tileWidth);
            parts.add(pool.submit(() -> {
                ActiveBuffer out = new ActiveBuffer(nTokens);
                kernels.encodeTile(x, nTokens, w, bias, threshold, a, b, new float[nTokens * (b - a)], out);
                return out;
            }));
        }
        List<ActiveBuffer> done = new ArrayList<>(parts.size());
        try {
            for (Future<ActiveBuffer> f : parts) done.add(f.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("encode interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("encode tile failed: " + e.getCause(), e.getCause());
        }
        // tiles are in ascending column order, so concatenation keeps indices sorted
        int[][] idx = new int[nTokens][];
        float[][] val = new float[nTokens][];
        for (int t = 0; t < nTokens; t++) {
            int n = 0;
            for (ActiveBuffer p : done) n += p.count(t);
            idx[t] = new int[n];
            val[t] = new float[n];
            int o = 0;
            for (ActiveBuffer p : done) {
                int c = p.count(t);
                System.arraycopy(p.indices(t), 0, idx[t], o, c);
                System.arraycopy(p.values(t), 0, val[t], o, c);
                o += c;
            }
        }
        return new Result(idx, val);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
