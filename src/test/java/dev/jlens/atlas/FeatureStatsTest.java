package dev.jlens.atlas;

import dev.jlens.sae.SparseCodes;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The streaming statistics against a brute-force reference (dense activations, full sorts), and their merge laws. */
class FeatureStatsTest {
    private static final int D_SAE = 37;
    private static final int TOP = 5;
    private static final int SAMPLE = 9;

    /** A synthetic corpus: per context, dense [tokens x d_sae] activations (row 0 = BOS), with ties on purpose. */
    record Ctx(long id, float[][] act) {}

    static List<Ctx> corpus(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        List<Ctx> l = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            int len = 1 + r.nextInt(12);
            float[][] a = new float[len][D_SAE];
            for (int t = 0; t < len; t++) {
                for (int f = 0; f < D_SAE; f++) {
                    if (r.nextDouble() < 0.08 + 0.01 * (f % 5)) {
                        // few distinct values so that ties between contexts and positions occur
                        a[t][f] = r.nextInt(4) == 0 ? 2.5f : (float) (0.01 + r.nextDouble() * (1 + f));
                    }
                }
            }
            // ids not in order and with gaps, as chunked documents give
            l.add(new Ctx((c * 7919L) % 1000 + ((long) (c % 3) << 32), a));
        }
        return l;
    }

    static SparseCodes codes(float[][] a) {
        int[][] idx = new int[a.length][];
        float[][] val = new float[a.length][];
        for (int t = 0; t < a.length; t++) {
            int n = 0;
            for (float v : a[t]) if (v > 0) n++;
            idx[t] = new int[n];
            val[t] = new float[n];
            for (int f = 0, k = 0; f < D_SAE; f++) if (a[t][f] > 0) { idx[t][k] = f; val[t][k++] = a[t][f]; }
        }
        return SparseCodes.of(D_SAE, idx, val);
    }

    static FeatureStats scan(List<Ctx> part) {
        FeatureStats st = new FeatureStats(D_SAE, TOP, SAMPLE);
        ContextScanner sc = new ContextScanner(st);
        for (Ctx c : part) sc.scan(c.id(), codes(c.act()), 0, c.act().length);
        return st;
    }

    static byte[] bytes(FeatureStats st) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) { st.write(out); }
        return b.toByteArray();
    }

    @Test
    void streamingStatisticsEqualTheBruteForceReference() {
        List<Ctx> corpus = corpus(1, 300);
        FeatureStats st = scan(corpus);
        long tokens = 0;
        for (Ctx c : corpus) tokens += c.act().length - 1;
        assertEquals(tokens, st.tokens());
        assertEquals(corpus.size(), st.contexts());
        for (int f = 0; f < D_SAE; f++) {
            long fires = 0;
            float max = 0;
            double sum = 0;
            long[] hist = new long[ActivationBins.COUNT];
            List<FeatureStats.Example> perCtx = new ArrayList<>();
            for (Ctx c : corpus) {
                float cm = 0;
                int cp = -1;
                for (int t = 1; t < c.act().length; t++) { // BOS (row 0) never counts
                    float v = c.act()[t][f];
                    if (v <= 0) continue;
                    fires++;
                    max = Math.max(max, v);
                    sum += v;
                    hist[ActivationBins.bin(v)]++;
                    if (v > cm) { cm = v; cp = t; }
                }
                if (cp >= 0) perCtx.add(new FeatureStats.Example(c.id(), cp, cm));
            }
            assertEquals(fires, st.fires(f), "fires of " + f);
            assertEquals(max, st.max(f), "max of " + f);
            assertEquals(fires == 0 ? 0 : sum / fires, st.mean(f), 1e-6, "mean of " + f);
            assertArrayEquals(hist, st.histogram(f), "histogram of " + f);
            List<FeatureStats.Example> top = new ArrayList<>(perCtx);
            top.sort(Comparator.comparing((FeatureStats.Example e) -> -e.value()).thenComparingLong(FeatureStats.Example::context)
                    .thenComparingInt(FeatureStats.Example::position));
            assertEquals(top.subList(0, Math.min(TOP, top.size())), st.top(f), "top of " + f);
            List<FeatureStats.Example> sample = new ArrayList<>(perCtx);
            sample.sort((a, b) -> {
                int c = Long.compareUnsigned(FeatureStats.hash(a.context()), FeatureStats.hash(b.context()));
                return c != 0 ? c : Long.compare(a.context(), b.context());
            });
            assertEquals(sample.subList(0, Math.min(SAMPLE, sample.size())), st.sample(f), "sample of " + f);
        }
        assertTrue(st.firedFeatures().length > D_SAE / 2);
    }

    @Test
    void anySplitMergesToTheSameBytes() throws IOException {
        List<Ctx> corpus = corpus(2, 200);
        byte[] whole = bytes(scan(corpus));
        for (int parts : new int[] {1, 2, 7, 13}) {
            // contiguous partitions, merged in both orders and as a tree
            List<FeatureStats> ps = new ArrayList<>();
            for (int p = 0; p < parts; p++) ps.add(scan(corpus.subList(corpus.size() * p / parts, corpus.size() * (p + 1) / parts)));
            FeatureStats fwd = new FeatureStats(D_SAE, TOP, SAMPLE);
            for (FeatureStats p : ps) fwd.merge(p);
            FeatureStats rev = new FeatureStats(D_SAE, TOP, SAMPLE);
            for (int p = parts - 1; p >= 0; p--) rev.merge(ps.get(p));
            assertArrayEquals(whole, bytes(fwd), parts + " partitions, in order");
            assertArrayEquals(whole, bytes(rev), parts + " partitions, reversed");
        }
        // an interleaved (non-contiguous) split too: contexts dealt round-robin
        List<Ctx> even = new ArrayList<>(), odd = new ArrayList<>();
        for (int i = 0; i < corpus.size(); i++) (i % 2 == 0 ? even : odd).add(corpus.get(i));
        FeatureStats a = scan(odd);
        a.merge(scan(even));
        assertArrayEquals(whole, bytes(a));
    }

    @Test
    void writeReadRoundTripsAndRejectsDamage() throws IOException {
        FeatureStats st = scan(corpus(3, 50));
        byte[] b = bytes(st);
        FeatureStats back = FeatureStats.read(new DataInputStream(new ByteArrayInputStream(b)));
        assertEquals(st, back);
        assertArrayEquals(b, bytes(back));
        byte[] bad = b.clone();
        bad[0] ^= 1;
        assertThrows(IOException.class, () -> FeatureStats.read(new DataInputStream(new ByteArrayInputStream(bad))));
        byte[] cut = Arrays.copyOf(b, b.length / 2);
        assertThrows(IOException.class, () -> FeatureStats.read(new DataInputStream(new ByteArrayInputStream(cut))));
    }

    @Test
    void sumsStayExactForLargeCounts() {
        FeatureStats a = new FeatureStats(1, 1, 0);
        // 3 million firings of 1e6: a double accumulation in another order could differ in the last bit; fixed point cannot
        for (int i = 0; i < 3_000_000; i++) a.fire(0, 1_000_000f);
        assertEquals(1_000_000.0, a.mean(0), 0.0);
        assertThrows(IllegalArgumentException.class, () -> a.fire(0, Float.NaN));
        assertThrows(IllegalArgumentException.class, () -> a.fire(0, 0f));
        assertThrows(IllegalArgumentException.class, () -> a.fire(0, 3e9f));
    }

    @Test
    void quantileIntervalsSplitZeroToMaxEvenly() {
        assertEquals(0, FeatureStats.interval(0.1f, 10f, 5));
        assertEquals(1, FeatureStats.interval(2f, 10f, 5));
        assertEquals(4, FeatureStats.interval(10f, 10f, 5));
        assertEquals(4, FeatureStats.interval(9.99f, 10f, 5));
    }

    @Test
    void binsAreHalfOctavesFromTheFloatBits() {
        assertEquals(0, ActivationBins.bin(1e-9f));
        assertEquals(0, ActivationBins.bin(0x1p-8f * 1.4f));
        assertEquals(1, ActivationBins.bin(0x1p-8f * 1.5f));
        assertEquals(2 * 8, ActivationBins.bin(1f));
        assertEquals(2 * 8 + 1, ActivationBins.bin(1.75f));
        assertEquals(ActivationBins.COUNT - 1, ActivationBins.bin(1e30f));
        for (int i = 1; i < ActivationBins.COUNT; i++) {
            float lo = (float) ActivationBins.lowerEdge(i);
            assertEquals(i, ActivationBins.bin(lo), "lower edge of bin " + i);
            assertEquals(i - 1, ActivationBins.bin(Math.nextDown(lo)), "just below bin " + i);
        }
    }
}
