package dev.jlens.sae;

import static org.junit.jupiter.api.Assertions.*;

import dev.jlens.llama.Smaps;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ToySaeTest {
    @TempDir Path tmp;

    @Test
    void randomInputsOfTheCalibratedScaleGiveARealisticL0() throws Exception {
        Path npz = tmp.resolve("layer_12/toy/params.npz");
        ToySae.builder(2304, 4096, 1).inputStd(3f).targetL0(40).writeGemmaScopeNpz(npz);
        SplittableRandom r = new SplittableRandom(2);
        int n = 32;
        float[] x = new float[n * 2304];
        for (int i = 0; i < x.length; i++) x[i] = (float) (3 * r.nextGaussian());
        try (Sae sae = Sae.loadGemmaScopeNpz(npz);
             SaeEncoder enc = SaeEncoders.create(sae, "vector", new EncoderOptions(2, 512, 16))) {
            assertEquals(1f, sae.decoderRowNorms().min(), 1e-4f);
            assertEquals(1f, sae.decoderRowNorms().max(), 1e-4f);
            SparseCodes c = enc.encode(x, n);
            double mean = 0;
            for (int t = 0; t < n; t++) mean += c.l0(t);
            mean /= n;
            System.out.printf("toy 2304x4096 target L0 40: mean L0 %.1f over %d random tokens%n", mean, n);
            assertTrue(mean > 25 && mean < 60, "mean L0 " + mean);
        }
    }

    @Test
    void plantedFeatureFiresOnItsDirectionAndNowhereElse() throws Exception {
        float[] dir = new float[64];
        dir[5] = 3f;
        dir[6] = 4f;
        Path npz = tmp.resolve("layer_12/planted/params.npz");
        ToySae.builder(64, 300, 4).targetL0(3).plantFeature(123, dir, 2.5f).writeGemmaScopeNpz(npz);
        try (Sae sae = Sae.loadGemmaScopeNpz(npz);
             SaeEncoder enc = SaeEncoders.create(sae, "scalar", SaeFixtures.small())) {
            assertArrayEquals(new float[] {0.6f, 0.8f}, new float[] {sae.decoderRow(123)[5], sae.decoderRow(123)[6]}, 1e-6f);
            assertEquals(2.5f, sae.threshold(123));
            float[] x = new float[64];
            x[5] = 1.8f;
            x[6] = 2.4f; // projection 3.0 > 2.5
            assertEquals(3.0f, enc.encode(x, 1).value(0, 123), 1e-5f);
            x[5] = 1.2f;
            x[6] = 1.6f; // projection 2.0 < 2.5
            assertEquals(0f, enc.encode(x, 1).value(0, 123));
        }
    }

    @Test
    void sparseCodesAppendMergeAndValidate() {
        SparseCodes a = SparseCodes.of(10, new int[][] {{1, 4}, {}}, new float[][] {{0.5f, 2f}, {}});
        SparseCodes b = SparseCodes.of(10, new int[][] {{9}}, new float[][] {{7f}});
        SparseCodes ab = a.append(b);
        assertEquals(3, ab.nTokens());
        assertEquals(0, ab.l0(1));
        assertArrayEquals(new int[] {9}, ab.indices(2));
        assertEquals(2f, ab.value(0, 4));
        assertEquals(0f, ab.value(0, 5));
        assertThrows(IllegalArgumentException.class, () -> SparseCodes.of(10, new int[][] {{4, 1}}, new float[][] {{1, 1}}), "unsorted");
        assertThrows(IllegalArgumentException.class, () -> SparseCodes.of(10, new int[][] {{10}}, new float[][] {{1}}), "out of range");
        assertThrows(IllegalArgumentException.class, () -> a.append(SparseCodes.empty(11)), "d_sae mismatch");
    }

    /**
     * Heap bound with a 2304 x 32768 toy (288 MiB per matrix) rather than the 262k one: the full 262k size
     * would write 4.8 GB (plus as much temp data) per test run. Weights are mapped, so loading and
     * encoding must grow the heap by far less than one matrix.
     */
    @Test
    void encodingA32kWideSaeKeepsWeightsOffTheHeap() throws Exception {
        Path npz = tmp.resolve("layer_12/wide/params.npz");
        ToySae.builder(2304, 32768, 7).targetL0(60).writeGemmaScopeNpz(npz);
        assertTrue(Files.size(npz) > 2L * 2304 * 32768 * 4);
        MemoryMXBean mx = ManagementFactory.getMemoryMXBean();
        System.gc();
        long before = mx.getHeapMemoryUsage().getUsed();
        long peak;
        try (Sae sae = Sae.loadGemmaScopeNpz(npz);
             SaeEncoder enc = SaeEncoders.create(sae, "vector", new EncoderOptions(2, 512, 8))) {
            SplittableRandom r = new SplittableRandom(1);
            float[] x = new float[4 * 2304];
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            SparseCodes c = enc.encode(x, 4);
            assertTrue(c.l0(0) > 0);
            peak = mx.getHeapMemoryUsage().getUsed();
            System.gc();
            long retained = mx.getHeapMemoryUsage().getUsed() - before;
            System.out.printf("32k-wide SAE: heap retained while open %d KiB (W_enc is %d MiB)%n", retained >> 10, 2304L * 32768 * 4 >> 20);
            assertTrue(retained < 32L << 20, "heap grew by " + retained + " bytes");
        }
        assertTrue(peak - before < 128L << 20, "peak heap growth " + (peak - before) + " bytes must stay well below one matrix (288 MiB)");
    }

    /**
     * Loading validates every weight (finite values, decoder norms), which reads the whole file; the validated
     * pages must not stay in this process's resident set (a 262k f32 SAE is 4.8 GB). Measured on the mapping
     * itself in /proc/self/smaps, so other threads' memory does not matter.
     */
    @Test
    void loadingReleasesTheValidatedPages() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Smaps.available(), "needs Linux /proc/self/smaps");
        Path npz = tmp.resolve("layer_12/rss/params.npz");
        ToySae.builder(2304, 4096, 3).targetL0(40).writeGemmaScopeNpz(npz);
        long size = Files.size(npz);
        try (Sae sae = Sae.loadGemmaScopeNpz(npz)) {
            long rss = Smaps.mappedRss(npz);
            System.out.printf("SAE %d MiB: resident after load %d KiB%n", size >> 20, rss >> 10);
            assertTrue(rss < size / 16, "resident after load: " + rss + " of " + size + " bytes");
            float[] row = sae.decoderRow(4095); // released pages read back correctly
            double n = 0;
            for (float v : row) n += (double) v * v;
            assertTrue(n > 0 && Math.sqrt(n) <= sae.decoderRowNorms().max() * (1 + 1e-6), "row norm " + Math.sqrt(n));
            long touched = Smaps.mappedRss(npz);
            assertTrue(touched > rss, "reading a row must fault its pages back in (" + rss + " -> " + touched + ")");
        }
    }
}
