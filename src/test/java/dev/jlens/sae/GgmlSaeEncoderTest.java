package dev.jlens.sae;

import dev.jlens.formats.DType;
import dev.jlens.formats.Tensor;
import dev.jlens.kernels.WeightFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The ggml encoder (a real ggml graph on the CPU backend of the pinned llama.cpp build) against the
 * f64 reference of the JumpReLU spec, with the tie rule of the kernel parity tests: a (token, feature)
 * whose pre-activation lies within the f32 rounding bound tol = (d_in+2)·2^-24·Σ|x_k W_kc| of its
 * threshold may go either way and is counted, not compared; everything else must agree exactly on the
 * active set and within tol on the value.
 */
class GgmlSaeEncoderTest {
    @TempDir Path tmp;

    record Random(float[] wEnc, float[] bEnc, float[] thr, float[] x) {}

    static Random random(int dIn, int dSae, int nTok, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[dIn * dSae], b = new float[dSae], th = new float[dSae], x = new float[nTok * dIn];
        for (int i = 0; i < w.length; i++) w[i] = (float) (gauss(r) / Math.sqrt(dIn));
        for (int i = 0; i < dSae; i++) { b[i] = (float) (0.02 * gauss(r)); th[i] = (float) Math.abs(0.3 * gauss(r)); }
        for (int i = 0; i < x.length; i++) x[i] = (float) gauss(r);
        return new Random(w, b, th, x);
    }

    static double gauss(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    Sae write(String name, int dIn, int dSae, Random rnd) throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("W_enc", SaeFixtures.t("W_enc", new long[] {dIn, dSae}, rnd.wEnc()));
        float[] wDec = new float[dSae * dIn];
        for (int f = 0; f < dSae; f++) for (int k = 0; k < dIn; k++) wDec[f * dIn + k] = rnd.wEnc()[k * dSae + f];
        m.put("W_dec", SaeFixtures.t("W_dec", new long[] {dSae, dIn}, wDec));
        m.put("b_enc", SaeFixtures.t("b_enc", new long[] {dSae}, rnd.bEnc()));
        m.put("b_dec", SaeFixtures.t("b_dec", new long[] {dIn}, new float[dIn]));
        m.put("threshold", SaeFixtures.t("threshold", new long[] {dSae}, rnd.thr()));
        return Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, name, m));
    }

    @ParameterizedTest
    @CsvSource({"1,1,3", "7,17,5", "13,1031,4", "2305,17,2", "64,300,40"})
    void ggmlEncoderEqualsTheReferenceOnAwkwardSizes(int dIn, int dSae, int nTok) throws IOException {
        Random rnd = random(dIn, dSae, nTok, 42 + dIn * 31L + dSae);
        try (Sae sae = write("s" + dIn + "x" + dSae, dIn, dSae, rnd);
             SaeEncoder enc = SaeEncoders.create(sae, "ggml", SaeFixtures.small())) {
            assertEquals("ggml", enc.kind());
            int[] stats = compare(enc.encode(rnd.x(), nTok), rnd, dIn, dSae, nTok);
            System.out.printf("ggml %dx%d: %d decisions compared, %d near-threshold ties%n", dIn, dSae, stats[0], stats[1]);
        }
    }

    @Test
    void fullSize2304x16384AgreesWithTheReference() throws IOException {
        int dIn = 2304, dSae = 16384, nTok = 3;
        Random rnd = random(dIn, dSae, nTok, 7);
        try (Sae sae = write("full16k", dIn, dSae, rnd);
             SaeEncoder ggml = SaeEncoders.create(sae, "ggml", new EncoderOptions(2, 512, 32))) {
            int[] stats = compare(ggml.encode(rnd.x(), nTok), rnd, dIn, dSae, nTok);
            System.out.printf("ggml 2304x16384: %d decisions compared, %d near-threshold ties%n", stats[0], stats[1]);
            assertTrue(stats[0] > nTok * dSae * 0.99);
        }
    }

    @Test
    void bf16WeightsAgreeWithF32OnAlmostAllActiveFeatures() throws IOException {
        int dIn = 512, dSae = 2048, nTok = 8;
        Random rnd = random(dIn, dSae, nTok, 99);
        Path bf16Dir = tmp.resolve("bf16");
        try (Sae f32 = write("f32", dIn, dSae, rnd)) {
            SaeWriter.writeSaeLensDir(f32, bf16Dir, WeightFormat.BF16);
        }
        try (Sae f32 = write("f32b", dIn, dSae, rnd); Sae bf16 = Sae.loadSaeLensDir(bf16Dir);
             SaeEncoder a = SaeEncoders.create(f32, "ggml", SaeFixtures.small());
             SaeEncoder b = SaeEncoders.create(bf16, "ggml", SaeFixtures.small())) {
            SparseCodes ca = a.encode(rnd.x(), nTok), cb = b.encode(rnd.x(), nTok);
            long inter = 0, union = 0;
            for (int t = 0; t < nTok; t++) {
                java.util.Set<Integer> sa = new java.util.HashSet<>(), sb = new java.util.HashSet<>();
                for (int i : ca.indices(t)) sa.add(i);
                for (int i : cb.indices(t)) sb.add(i);
                java.util.Set<Integer> u = new java.util.HashSet<>(sa);
                u.addAll(sb);
                sa.retainAll(sb);
                inter += sa.size();
                union += u.size();
            }
            double jaccard = (double) inter / union;
            System.out.printf("ggml bf16 vs f32 weights: active-set agreement (Jaccard) %.4f over %d features%n", jaccard, union);
            assertTrue(jaccard > 0.98, "bf16 vs f32 active sets: " + jaccard);
        }
    }

    @Test
    void handComputedSaeGivesTheHandNumbers() throws IOException {
        // the 2x3 SAE of SaeKnownAnswerTest: x = [1, 2] -> pre = [1, 2.5, 0] vs thr [0.5, 1, 0.1] -> f = [1, 2.5, 0]
        try (Sae sae = Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, "hand", SaeFixtures.handMade()));
             SaeEncoder enc = SaeEncoders.create(sae, "ggml", SaeFixtures.small())) {
            SparseCodes c = enc.encode(new float[] {1, 2}, 1);
            assertArrayEquals(new int[] {0, 1}, c.indices(0));
            assertArrayEquals(new float[] {1f, 2.5f}, c.values(0), 1e-6f);
            // pre exactly equal to the threshold stays off (strict gate): x = [0.5, 0] -> pre[0] = 0.5 = thr[0]
            SparseCodes d = enc.encode(new float[] {0.5f, 0f}, 1);
            assertEquals(0, java.util.Arrays.stream(d.indices(0)).filter(i -> i == 0).count());
        }
    }

    /**
     * The ggml encoder on the layouts and architectures of issue 16: a Fortran-order w_* npz (W_enc uploaded from
     * W_enc^T as is), JumpReLU thresholds <= 0 (gated on max(threshold, 0)), SAELens standard and topk directories,
     * each against the f64 reference of SAELens' formulas.
     */
    @ParameterizedTest
    @CsvSource({"jumprelu-fortran,0,13,207,5", "jumprelu-fortran,0,64,1031,9", "standard,0,13,207,5", "topk,7,13,207,5", "topk,40,64,1031,9"})
    void ggmlEncoderComputesFortranStandardAndTopkSaesAsSaeLens(String what, int k, int dIn, int dSae, int n) throws IOException {
        boolean fortran = what.endsWith("fortran");
        String arch = fortran ? "jumprelu" : what;
        SaeReference.Weights w = SaeReference.random(dIn, dSae, 17L * dIn + dSae, fortran, 0.15);
        float[] x = SaeReference.inputs(n, dIn, 3);
        Path src = fortran ? SaeArchitecturesTest.writeNpz(tmp.resolve("ggml-f/layer_12/w/params.npz"), w, true)
                : SaeArchitecturesTest.writeSaeLensDir(tmp.resolve("ggml-" + what + k), w, arch, "topk".equals(arch) ? k : null, "torch.float32");
        double[][][] ref = SaeReference.pre(w, x, n, !fortran);
        try (Sae sae = Sae.load(src.toString()); SaeEncoder enc = SaeEncoders.create(sae, "ggml", SaeFixtures.small())) {
            assertEquals(fortran, sae.wEncTransposed());
            int[] s = SaeReference.compare(enc.encode(x, n), ref[0], ref[1], arch, w.thr(), k, null);
            System.out.printf("ggml %s %dx%d: %d decisions compared, %d ties%n", what, dIn, dSae, s[0], s[1]);
            assertTrue(s[0] > 0.9 * n * dSae, "compared only " + s[0]);
        }
    }

    /** Returns {compared, ties}; fails on any disagreement outside the f32 tie band. */
    static int[] compare(SparseCodes codes, Random rnd, int dIn, int dSae, int nTok) {
        return compare(codes, rnd, dIn, dSae, nTok, 0);
    }

    /** As above with an extra relative band {@code extraRel}·Σ|x_k W_kc| (e.g. TF32 inputs on a GPU). */
    static int[] compare(SparseCodes codes, Random rnd, int dIn, int dSae, int nTok, double extraRel) {
        int compared = 0, ties = 0;
        for (int t = 0; t < nTok; t++) {
            float[] dense = new float[dSae];
            boolean[] on = new boolean[dSae];
            int[] idx = codes.indices(t);
            float[] val = codes.values(t);
            for (int i = 0; i < idx.length; i++) { dense[idx[i]] = val[i]; on[idx[i]] = true; }
            for (int c = 0; c < dSae; c++) {
                double ref = rnd.bEnc()[c], mag = Math.abs(rnd.bEnc()[c]);
                for (int k = 0; k < dIn; k++) {
                    double p = (double) rnd.x()[t * dIn + k] * rnd.wEnc()[k * dSae + c];
                    ref += p;
                    mag += Math.abs(p);
                }
                double tol = (extraRel + (dIn + 2) * 0x1p-24) * mag;
                if (Math.abs(ref - rnd.thr()[c]) <= tol) { ties++; continue; }
                compared++;
                boolean want = ref > rnd.thr()[c];
                assertEquals(want, on[c], "gate differs at token " + t + " feature " + c + " (pre " + ref + ", thr " + rnd.thr()[c] + ")");
                if (want) assertEquals(ref, dense[c], tol, "value at token " + t + " feature " + c);
            }
        }
        return new int[] {compared, ties};
    }
}
