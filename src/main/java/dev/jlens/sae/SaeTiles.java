package dev.jlens.sae;

import dev.jlens.kernels.ActiveBuffer;
import dev.jlens.kernels.Kernels;
import dev.jlens.kernels.TiledEncoder;
import dev.jlens.kernels.WeightFormat;
import dev.jlens.kernels.Weights;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;

/**
 * The block encode of an SAE that {@link TiledEncoder} does not cover: a W_enc stored transposed (a Fortran-order
 * W_enc, read in place as W_enc^T [d_sae x d_in]) and/or a topk SAE. Same column tiles and the same
 * {@link Kernels#encodeTile} kernel (scalar or vector) as TiledEncoder, so the codes are bit-identical to those of
 * the C-order SAE with the same weights:
 * <ul>
 *   <li>transposed: each tile's rows of W_enc^T (contiguous, read sequentially) are packed into a [d_in x tile]
 *       f32 panel (bf16 widened exactly) and the kernel runs on the panel. Every output is still a k-ascending
 *       sum from 0 in both kernels, so packing changes where the weights are read from, not the result;</li>
 *   <li>topk: the kernel runs with bound 0 (ReLU); each tile keeps at most k pairs per token (the global top k of a
 *       token are among its tiles' top k), and the merged pairs are cut to k ({@link TopK}).</li>
 * </ul>
 */
final class SaeTiles implements AutoCloseable {
    private final Kernels kernels;
    private final Sae sae;
    private final int tileWidth;
    private final int tokenBlock;
    private final int topK;
    private final ForkJoinPool pool;
    /** Per worker: the packed panel of the tile being encoded (byte[]-backed: the Vector API reads heap segments only of byte[]). */
    private final ThreadLocal<MemorySegment[]> panel = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    SaeTiles(Kernels kernels, Sae sae, EncoderOptions options) {
        this.kernels = kernels;
        this.sae = sae;
        this.tileWidth = options.tileWidth();
        this.tokenBlock = options.tokenBlock();
        this.topK = sae.topK();
        this.pool = new ForkJoinPool(options.threads());
    }

    TiledEncoder.Result encodeBlock(float[] x, int nTokens) {
        if (nTokens <= 0 || nTokens > tokenBlock) throw new IllegalArgumentException("nTokens must be in 1.." + tokenBlock + ": " + nTokens);
        int dSae = sae.dSae();
        List<Future<TiledEncoder.Result>> parts = new ArrayList<>();
        for (int c0 = 0; c0 < dSae; c0 += tileWidth) {
            int a = c0, b = Math.min(dSae, c0 + tileWidth);
            parts.add(pool.submit(() -> tile(x, nTokens, a, b)));
        }
        List<TiledEncoder.Result> done = new ArrayList<>(parts.size());
        try {
            for (Future<TiledEncoder.Result> f : parts) done.add(f.get());
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
            for (TiledEncoder.Result p : done) n += p.indices()[t].length;
            int[] i = new int[n];
            float[] v = new float[n];
            int o = 0;
            for (TiledEncoder.Result p : done) {
                int c = p.indices()[t].length;
                System.arraycopy(p.indices()[t], 0, i, o, c);
                System.arraycopy(p.values()[t], 0, v, o, c);
                o += c;
            }
            if (topK > 0 && n > topK) {
                n = TopK.select(i, v, n, topK);
                i = java.util.Arrays.copyOf(i, n);
                v = java.util.Arrays.copyOf(v, n);
            }
            idx[t] = i;
            val[t] = v;
        }
        return new TiledEncoder.Result(idx, val);
    }

    private TiledEncoder.Result tile(float[] x, int n, int c0, int c1) {
        int tw = c1 - c0, dIn = sae.dIn();
        ActiveBuffer out = new ActiveBuffer(n);
        float[] acc = new float[n * tw];
        int shift;
        if (sae.wEncTransposed()) {
            Weights p = pack(c0, tw);
            kernels.encodeTile(x, n, p, sae.bEnc().asSlice(4L * c0, 4L * tw), sae.encodeThreshold().asSlice(4L * c0, 4L * tw), 0, tw, acc, out);
            shift = c0;
        } else {
            kernels.encodeTile(x, n, sae.wEnc(), sae.bEnc(), sae.encodeThreshold(), c0, c1, acc, out);
            shift = 0;
        }
        int[][] idx = new int[n][];
        float[][] val = new float[n][];
        for (int t = 0; t < n; t++) {
            int c = out.count(t);
            int[] i = java.util.Arrays.copyOf(out.indices(t), c);
            float[] v = java.util.Arrays.copyOf(out.values(t), c);
            if (shift != 0) for (int j = 0; j < c; j++) i[j] += shift;
            if (topK > 0 && c > topK) {
                c = TopK.select(i, v, c, topK);
                i = java.util.Arrays.copyOf(i, c);
                v = java.util.Arrays.copyOf(v, c);
            }
            idx[t] = i;
            val[t] = v;
        }
        return new TiledEncoder.Result(idx, val);
    }

    /** Features [c0, c0+tw) of W_enc^T as a [d_in x tw] f32 panel in this worker's buffer. */
    private Weights pack(int c0, int tw) {
        int dIn = sae.dIn();
        long bytes = 4L * dIn * tw;
        MemorySegment[] h = panel.get();
        if (h[0] == null || h[0].byteSize() < bytes) {
            if (bytes > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("tile too large to pack: " + bytes + " bytes");
            h[0] = MemorySegment.ofArray(new byte[(int) bytes]);
        }
        MemorySegment p = h[0].asSlice(0, bytes);
        Weights wt = sae.wEnc(); // [d_sae x d_in]
        boolean f32 = wt.format() == WeightFormat.F32;
        MemorySegment src = wt.data();
        final int G = 16; // features per pass: 16 sequential row streams, 16 contiguous floats written per k
        for (int g0 = 0; g0 < tw; g0 += G) {
            int g1 = Math.min(tw, g0 + G);
            for (int k = 0; k < dIn; k++) {
                long dst = (long) k * tw;
                for (int j = g0; j < g1; j++) {
                    long e = (long) (c0 + j) * dIn + k;
                    float v = f32 ? src.getAtIndex(Sae.F32, e) : WeightFormat.fromBf16(src.getAtIndex(Sae.I16, e));
                    p.setAtIndex(Sae.F32, dst + j, v);
                }
            }
        }
        return new Weights(p, WeightFormat.F32, dIn, tw);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
