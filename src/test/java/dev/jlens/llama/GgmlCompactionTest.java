package dev.jlens.llama;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The device compaction ({@link GgmlCompaction}, a real ggml graph on the CPU backend of the pinned build) against
 * the dense output of the same graph: for every token the compact read-back must give exactly the non-zero entries
 * of the dense row, bit for bit, in feature order - whether a token comes back through slot rows, through a dense
 * row because it is over the capacity, or because {@link GgmlCompaction#plan} found that cheaper. Token scales
 * spread the counts from 0 (a zero input and a bias-free SAE) to thousands, so every route is taken.
 */
class GgmlCompactionTest {
    /** Random SAE weights [dSae][dIn], bias, thresholds, and tokens whose norms grow with t (more active features). */
    record Case(int dIn, int dSae, float[] wT, float[] b, float[] thr, float[] x) {}

    static Case random(int dIn, int dSae, int n, long seed, boolean zeroBias) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[dSae * dIn], b = new float[dSae], thr = new float[dSae], x = new float[n * dIn];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() / Math.sqrt(dIn));
        for (int f = 0; f < dSae; f++) { b[f] = zeroBias ? 0f : (float) (0.05 * r.nextGaussian()); thr[f] = (float) (2.5 + 0.3 * Math.abs(r.nextGaussian())); }
        for (int t = 0; t < n; t++) {
            double scale = t == 0 ? 0 : 0.4 + 4.0 * t / n; // token 0: all zero; then counts rise steeply with the scale
            for (int k = 0; k < dIn; k++) x[t * dIn + k] = (float) (scale * r.nextGaussian());
        }
        return new Case(dIn, dSae, w, b, thr, x);
    }

    static GgmlJumpRelu graph(Case c, int maxTokens, boolean bf16, int capacity, Arena a) {
        return GgmlJumpRelu.create(c.dIn(), c.dSae(), (f0, f1, dst) -> System.arraycopy(c.wT(), f0 * c.dIn(), dst, 0, (f1 - f0) * c.dIn()),
                bf16, a.allocateFrom(JAVA_FLOAT, c.b()), a.allocateFrom(JAVA_FLOAT, c.thr()), maxTokens, 2, GgmlJumpRelu.Device.CPU, capacity);
    }

    @ParameterizedTest
    @CsvSource({"64,1000,33,8,false", "64,1000,33,1,false", "64,1000,33,1000,true", "96,4099,17,64,true", "7,5,3,2,false", "2304,16384,40,256,false"})
    void compactReadBackIsTheDenseOutputsNonZeroEntriesBitForBit(int dIn, int dSae, int n, int capacity, boolean bf16) {
        Case c = random(dIn, dSae, n, 1000L * dIn + dSae + capacity, true);
        try (Arena a = Arena.ofConfined(); GgmlJumpRelu g = graph(c, n, bf16, capacity, a)) {
            MemorySegment x = a.allocateFrom(JAVA_FLOAT, c.x());
            GgmlJumpRelu.Sparse s = g.encodeSparse(x, n);
            MemorySegment dense = g.encode(x, n);
            long nnz = 0;
            int maxCount = 0;
            for (int t = 0; t < n; t++) {
                int k = 0;
                for (int f = 0; f < dSae; f++) {
                    float v = dense.getAtIndex(JAVA_FLOAT, (long) t * dSae + f);
                    if (v == 0f) continue;
                    assertTrue(k < s.indices()[t].length, "token " + t + ": compact misses feature " + f);
                    assertEquals(f, s.indices()[t][k], "token " + t + " entry " + k);
                    assertEquals(Float.floatToRawIntBits(v), Float.floatToRawIntBits(s.values()[t][k]), "token " + t + " feature " + f);
                    k++;
                }
                assertEquals(k, s.indices()[t].length, "token " + t + ": compact has extra entries");
                nnz += k;
                maxCount = Math.max(maxCount, k);
            }
            assertEquals(0, s.indices()[0].length, "a zero token through a bias-free SAE has nothing active");
            assertTrue(s.slotRows() <= Math.min(capacity, dSae));
            long denseBytes = 4L * n * dSae;
            System.out.printf("compaction %dx%d, %d tokens, capacity %d, %s: nnz %d (max %d/token); read back %d bytes (%d slot rows, %d dense rows) vs %d dense%n",
                    dIn, dSae, n, capacity, bf16 ? "bf16" : "f32", nnz, maxCount, s.bytesRead(), s.slotRows(), s.denseRows(), denseBytes);
            assertTrue(s.bytesRead() <= denseBytes + 4L * n, "the plan never reads more than the dense block plus the counts");
            if (maxCount > capacity) assertTrue(s.denseRows() > 0, "a token over the capacity must come back dense");
        }
    }

    @Test
    void realisticSparsityReadsBackAFractionOfTheDenseBlock() {
        // Gemma-Scope-like sparsity: thresholds at ~2.9 sigma of pre ~ N(0, 1) give ~30 of 16384 per token
        int dIn = 256, dSae = 16384, n = 64;
        SplittableRandom r = new SplittableRandom(3);
        float[] w = new float[dSae * dIn], b = new float[dSae], thr = new float[dSae], x = new float[n * dIn];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() / Math.sqrt(dIn));
        for (int f = 0; f < dSae; f++) thr[f] = 2.9f;
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        Case c = new Case(dIn, dSae, w, b, thr, x);
        try (Arena a = Arena.ofConfined(); GgmlJumpRelu g = graph(c, n, false, 256, a)) {
            GgmlJumpRelu.Sparse s = g.encodeSparse(a.allocateFrom(JAVA_FLOAT, x), n);
            long nnz = 0;
            for (int[] i : s.indices()) nnz += i.length;
            long dense = 4L * n * dSae;
            System.out.printf("compaction 16k, 64 tokens, mean L0 %.1f: %d bytes back (%d slot rows) vs %d dense (%.0fx less)%n",
                    (double) nnz / n, s.bytesRead(), s.slotRows(), dense, (double) dense / s.bytesRead());
            assertTrue(nnz > n * 5L && nnz < n * 200L, "sparsity of the fixture: " + nnz);
            assertEquals(0, s.denseRows());
            assertEquals(4L * n + 8L * n * s.slotRows(), s.bytesRead());
            assertTrue(s.bytesRead() * 20 < dense, "compact read-back " + s.bytesRead() + " vs dense " + dense);
        }
    }

    @Test
    void planTakesTheCheapestSplitBetweenSlotRowsAndDenseRows() {
        // 4 tokens, a slot row costs 32 bytes (8 x 4 tokens), a dense row 100
        assertEquals(0, GgmlCompaction.plan(new int[] {0, 0, 0, 0}, 4, 10, 32, 100));
        assertEquals(3, GgmlCompaction.plan(new int[] {1, 2, 3, 3}, 4, 10, 32, 100));
        // one token at 9: covering it costs 6 more rows (192) > one dense row (100)
        assertEquals(3, GgmlCompaction.plan(new int[] {1, 2, 3, 9}, 4, 10, 32, 100));
        // over the capacity: dense whatever it costs
        assertEquals(3, GgmlCompaction.plan(new int[] {3, 3, 3, 50}, 4, 10, 32, 1_000_000));
        // dense rows cheap: read everything dense
        assertEquals(0, GgmlCompaction.plan(new int[] {5, 6, 7, 8}, 4, 10, 1000, 10));
        assertEquals(0, GgmlCompaction.plan(new int[0], 0, 10, 32, 100));
    }

    @Test
    void everyOpOfTheCompactionGraphRunsOnTheCpuBackend() {
        Case c = random(8, 40, 4, 5, false);
        try (Arena a = Arena.ofConfined(); GgmlJumpRelu g = graph(c, 4, false, 4, a)) {
            GgmlJumpRelu.Sparse s = g.encodeSparse(a.allocateFrom(JAVA_FLOAT, c.x()), 4);
            assertTrue(g.compactsOnDevice(), "the compaction graph did not run on " + g.backendName());
            assertEquals(4, s.indices().length);
            assertTrue(g.computeBufferBytes() > 0);
        }
    }
}
