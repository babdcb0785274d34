package dev.jlens.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Scalar vs Vector API parity on awkward sizes.
 *
 * <p>Both kernels are compared to a double-precision reference. Tolerance per output (t, c) is the
 * standard worst-case bound for a floating-point dot product in any order,
 * tol = (d_in + 2) * 2^-24 * (sum_k |x_k W_kc| + |b_c|) — it scales with d_in and the magnitudes.
 * Near-threshold ties: when |pre_ref - threshold| <= tol, either decision is correct, so such
 * (t, c) are excluded from the active-set comparison (and counted); everywhere else the active sets
 * must be identical and values within 2 * tol of each other.
 */
class KernelParityTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort S = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static Arena arena;
    private static Kernels scalar;
    private static Kernels vector;

    @BeforeAll
    static void setUp() {
        arena = Arena.ofShared();
        scalar = KernelProvider.scalar();
        vector = KernelProvider.vector().orElseThrow(() -> new AssertionError("tests run with jdk.incubator.vector; vector kernels must load"));
    }

    @AfterAll
    static void tearDown() { arena.close(); }

    static MemorySegment f32(float[] a) {
        MemorySegment s = arena.allocate(4L * a.length, 8);
        for (int i = 0; i < a.length; i++) s.setAtIndex(F, i, a[i]);
        return s;
    }

    static float[] gaussian(SplittableRandom r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (gauss(r) * scale);
        return a;
    }

    static double gauss(SplittableRandom r) {
        return r.nextGaussian();
    }

    /** Random weights; bf16 ones are rounded from the same f32 values. */
    static Weights weights(SplittableRandom r, int rows, int cols, WeightFormat fmt) {
        long n = (long) rows * cols;
        MemorySegment s = arena.allocate(n * fmt.bytes, 8);
        for (long i = 0; i < n; i++) {
            float v = (float) (gauss(r) * 0.05);
            if (fmt == WeightFormat.F32) s.setAtIndex(F, i, v); else s.setAtIndex(S, i, WeightFormat.toBf16(v));
        }
        return new Weights(s, fmt, rows, cols);
    }

    static Weights toBf16(Weights w) {
        long n = (long) w.rows() * w.cols();
        MemorySegment s = arena.allocate(n * 2, 8);
        for (long i = 0; i < n; i++) s.setAtIndex(S, i, WeightFormat.toBf16(w.data().getAtIndex(F, i)));
        return new Weights(s, WeightFormat.BF16, w.rows(), w.cols());
    }

    record Stats(int ties, int compared, double worstErrOverTol) {}

    static TiledEncoder.Result run(Kernels k, float[] x, int nTok, Weights w, MemorySegment b, MemorySegment th, int tile, int threads) {
        try (TiledEncoder enc = new TiledEncoder(k, w, b, th, tile, 64, threads)) {
            return enc.encodeBlock(x, nTok);
        }
    }

    /** Checks scalar and vector against the double reference as described in the class comment. */
    static Stats check(int dIn, int dSae, int nTok, WeightFormat fmt, long seed, int tile) {
        SplittableRandom r = new SplittableRandom(seed);
        Weights w = weights(r, dIn, dSae, fmt);
        float[] x = gaussian(r, nTok * dIn, 1.0);
        float[] bias = gaussian(r, dSae, 0.02);
        // thresholds around the typical |pre| so roughly a third of the features fire
        float[] thr = gaussian(r, dSae, 0.05 * Math.sqrt(dIn) * 0.5);
        MemorySegment b = f32(bias), th = f32(thr);
        TiledEncoder.Result rs = run(scalar, x, nTok, w, b, th, tile, 2);
        TiledEncoder.Result rv = run(vector, x, nTok, w, b, th, tile, 2);
        int ties = 0, compared = 0;
        double worst = 0;
        for (int t = 0; t < nTok; t++) {
            float[] sDense = dense(rs, t, dSae), vDense = dense(rv, t, dSae);
            boolean[] sOn = on(rs, t, dSae), vOn = on(rv, t, dSae);
            for (int c = 0; c < dSae; c++) {
                double ref = bias[c], mag = Math.abs(bias[c]);
                for (int k = 0; k < dIn; k++) {
                    double p = (double) x[t * dIn + k] * w.get(k, c);
                    ref += p;
                    mag += Math.abs(p);
                }
                double tol = (dIn + 2) * 0x1p-24 * mag;
                if (Math.abs(ref - thr[c]) <= tol) { ties++; continue; }
                compared++;
                boolean want = ref > thr[c];
                assertEquals(want, sOn[c], "scalar gate differs from reference at feature " + c + " token " + t);
                assertEquals(want, vOn[c], "vector gate differs from reference at feature " + c + " token " + t);
                if (want) {
                    assertEquals(ref, sDense[c], tol, "scalar value at feature " + c);
                    assertEquals(ref, vDense[c], tol, "vector value at feature " + c);
                    assertEquals(sDense[c], vDense[c], 2 * tol, "scalar vs vector at feature " + c);
                    if (tol > 0) worst = Math.max(worst, Math.abs(sDense[c] - vDense[c]) / tol);
                }
            }
            assertSorted(rs.indices()[t]);
            assertSorted(rv.indices()[t]);
        }
        return new Stats(ties, compared, worst);
    }

    static void assertSorted(int[] idx) {
        for (int i = 1; i < idx.length; i++) assertTrue(idx[i - 1] < idx[i], "indices ascending");
    }

    static float[] dense(TiledEncoder.Result r, int t, int dSae) {
        float[] d = new float[dSae];
        for (int i = 0; i < r.indices()[t].length; i++) d[r.indices()[t][i]] = r.values()[t][i];
        return d;
    }

    static boolean[] on(TiledEncoder.Result r, int t, int dSae) {
        boolean[] d = new boolean[dSae];
        for (int i : r.indices()[t]) d[i] = true;
        return d;
    }

    @Test
    void encodeMatchesReferenceOnAwkwardSizesF32AndBf16() {
        int[] dIns = {1, 7, 13, 2305};
        // 25 = two vectors + one vector + one scalar column on AVX2: every code path of the blocked kernel
        int[] dSaes = {1, 17, 25, 1031};
        long seed = 1;
        int totalTies = 0, totalCompared = 0;
        for (WeightFormat fmt : WeightFormat.values())
            for (int dIn : dIns)
                for (int dSae : dSaes)
                    for (int nTok = 1; nTok <= 5; nTok += (dIn > 1000 ? 4 : 1)) {
                        Stats s = check(dIn, dSae, nTok, fmt, seed++, 256);
                        totalTies += s.ties();
                        totalCompared += s.compared();
                    }
        System.out.printf("awkward sizes: %d decisions compared, %d near-threshold ties excluded%n", totalCompared, totalTies);
        assertTrue(totalCompared > 10 * Math.max(1, totalTies), "ties must be rare or the test proves nothing");
    }

    @Test
    void tileWidthAndThreadCountDoNotChangeTheResult() {
        SplittableRandom r = new SplittableRandom(7);
        Weights w = weights(r, 13, 1031, WeightFormat.F32);
        float[] x = gaussian(r, 3 * 13, 1.0);
        MemorySegment b = f32(gaussian(r, 1031, 0.02)), th = f32(gaussian(r, 1031, 0.1));
        TiledEncoder.Result ref = run(vector, x, 3, w, b, th, 1031, 1);
        for (int tile : new int[] {1, 8, 17, 256, 4096})
            for (int threads : new int[] {1, 3}) {
                TiledEncoder.Result got = run(vector, x, 3, w, b, th, tile, threads);
                for (int t = 0; t < 3; t++) {
                    assertArrayEquals(ref.indices()[t], got.indices()[t], "tile " + tile + " threads " + threads);
                    assertArrayEquals(ref.values()[t], got.values()[t], "tile " + tile + " threads " + threads);
                }
            }
    }

    @Test
    void fullSize16kEncodeAgreesAndBf16ActiveSetOverlapIsReported() {
        int dIn = 2304, dSae = 16384, nTok = 2;
        Stats s = check(dIn, dSae, nTok, WeightFormat.F32, 99, 512);
        System.out.printf("2304x16384 f32: %d compared, %d ties, worst |scalar-vector|/tol = %.3g%n", s.compared(), s.ties(), s.worstErrOverTol());
        // bf16 weights rounded from the same f32 ones: how many active features survive the rounding
        SplittableRandom r = new SplittableRandom(5);
        Weights w = weights(r, dIn, dSae, WeightFormat.F32);
        Weights wb = toBf16(w);
        float[] x = gaussian(r, nTok * dIn, 1.0);
        MemorySegment b = f32(gaussian(r, dSae, 0.02)), th = f32(gaussian(r, dSae, 0.05 * Math.sqrt(dIn) * 1.5));
        TiledEncoder.Result a = run(vector, x, nTok, w, b, th, 512, 2);
        TiledEncoder.Result c = run(vector, x, nTok, wb, b, th, 512, 2);
        long inter = 0, union = 0;
        for (int t = 0; t < nTok; t++) {
            boolean[] p = on(a, t, dSae), q = on(c, t, dSae);
            for (int i = 0; i < dSae; i++) {
                if (p[i] && q[i]) inter++;
                if (p[i] || q[i]) union++;
            }
        }
        double jaccard = union == 0 ? 1 : (double) inter / union;
        System.out.printf("bf16 vs f32 active-set agreement (Jaccard) on 2304x16384: %.4f (%d of %d)%n", jaccard, inter, union);
        assertTrue(union > 100, "the threshold must make features fire");
        assertTrue(jaccard > 0.9, "bf16 rounding should keep most of the active set: " + jaccard);
    }

    @Test
    void dotAndCosineMatchScalarOnAwkwardSizes() {
        SplittableRandom r = new SplittableRandom(3);
        for (int n : new int[] {1, 7, 13, 2305}) {
            float[] a = gaussian(r, n, 1), b = gaussian(r, n, 1);
            double ref = 0, mag = 0;
            for (int i = 0; i < n; i++) { ref += (double) a[i] * b[i]; mag += Math.abs((double) a[i] * b[i]); }
            double tol = (n + 1) * 0x1p-24 * mag;
            assertEquals(ref, scalar.dot(a, b, n), tol, "scalar dot n=" + n);
            assertEquals(ref, vector.dot(a, b, n), tol, "vector dot n=" + n);
            assertEquals(scalar.cosine(a, b, n), vector.cosine(a, b, n), 1e-5, "cosine n=" + n);
            assertEquals(1.0, vector.cosine(a, a, n), 1e-5, "cosine of a vector with itself n=" + n);
        }
        assertEquals(0f, vector.cosine(new float[3], new float[] {1, 2, 3}, 3), "zero vector has cosine 0");
    }

    @Test
    void decodeMatchesScalarOnAwkwardSizes() {
        SplittableRandom r = new SplittableRandom(11);
        for (WeightFormat fmt : WeightFormat.values())
            for (int dIn : new int[] {1, 7, 13, 2305})
                for (int dSae : new int[] {1, 17, 1031}) {
                    Weights w = weights(r, dSae, dIn, fmt);
                    MemorySegment b = f32(gaussian(r, dIn, 0.1));
                    int n = Math.min(dSae, 9);
                    int[] idx = new int[n];
                    float[] val = new float[n];
                    for (int j = 0; j < n; j++) { idx[j] = (j * 7) % dSae; val[j] = (float) Math.abs(gauss(r)) * 3; }
                    float[] os = new float[dIn], ov = new float[dIn];
                    scalar.decode(idx, val, 0, n, w, b, os);
                    vector.decode(idx, val, 0, n, w, b, ov);
                    for (int d = 0; d < dIn; d++) {
                        double ref = Weights.f32(b, d), mag = Math.abs(ref);
                        for (int j = 0; j < n; j++) { double p = (double) val[j] * w.get(idx[j], d); ref += p; mag += Math.abs(p); }
                        double tol = (n + 2) * 0x1p-24 * mag;
                        assertEquals(ref, os[d], tol, "scalar decode d=" + d);
                        assertEquals(ref, ov[d], tol, "vector decode d=" + d);
                    }
                }
    }

    @Test
    void bf16RoundingIsNearestEvenAndWidensExactly() {
        assertEquals(1.0f, WeightFormat.fromBf16(WeightFormat.toBf16(1.0f)));
        // 1 + 2^-8 is exactly halfway between bf16 neighbours 1 and 1+2^-7: ties go to even (1.0)
        assertEquals(1.0f, WeightFormat.fromBf16(WeightFormat.toBf16(1f + 0x1p-8f)));
        assertEquals(1f + 0x1p-7f, WeightFormat.fromBf16(WeightFormat.toBf16(1f + 0x1p-8f + 0x1p-20f)));
        assertTrue(Float.isNaN(WeightFormat.fromBf16(WeightFormat.toBf16(Float.NaN))));
    }

    @Test
    void providerLoadsTheVectorKernelsWhenTheModuleIsPresent() {
        assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent());
        assertTrue(KernelProvider.best().name().startsWith("panama"), KernelProvider.best().name());
    }

    @Test
    void sparseRowSumIsBitIdenticalToTheScalarTwin() {
        SplittableRandom r = new SplittableRandom(42);
        for (int nPerm : new int[] {1, 3, 8, 1001}) {
            int n = 37;
            double[] labels = new double[n * nPerm];
            for (int i = 0; i < labels.length; i++) labels[i] = r.nextBoolean() ? 1.0 : 0.0;
            int count = 19;
            int[] rows = new int[count];
            float[] values = new float[count];
            for (int k = 0; k < count; k++) {
                rows[k] = r.nextInt(n);
                values[k] = k % 5 == 0 ? 1e-7f : (float) (r.nextDouble() * 1e3); // mixed magnitudes: rounding matters
            }
            double[] a = new double[nPerm], b = new double[nPerm];
            for (int p = 0; p < nPerm; p++) a[p] = b[p] = p * 0.25;
            scalar.sparseRowSum(rows, values, count, labels, nPerm, a, nPerm);
            vector.sparseRowSum(rows, values, count, labels, nPerm, b, nPerm);
            for (int p = 0; p < nPerm; p++) {
                assertEquals(Double.doubleToRawLongBits(a[p]), Double.doubleToRawLongBits(b[p]), "perm " + p + " of " + nPerm);
            }
            // and both equal the sum of the labelled values in k order
            double expect = 0;
            for (int k = 0; k < count; k++) if (labels[rows[k] * nPerm + nPerm - 1] == 1.0) expect += values[k];
            assertEquals(expect + (nPerm - 1) * 0.25 - (nPerm - 1) * 0.25, a[nPerm - 1] - (nPerm - 1) * 0.25, 1e-9 * (1 + Math.abs(expect)));
        }
    }
}
