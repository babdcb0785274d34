package dev.jlens.sae;

import dev.jlens.kernels.WeightFormat;
import dev.jlens.kernels.Weights;
import dev.jlens.llama.GgmlJumpRelu;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The ggml encoder with compaction on the device (the default read-back) on real npz/SAELens files of toy SAEs
 * ({@link ToySae}: Gemma-Scope-like L0 of ~60) at full width (16k with Gemma 2 2B's d_in; 262k with d_in 128, which
 * keeps the fixture's writing and the references cheap - the compaction's cost and exactness depend on d_sae), on
 * the CPU backend ({@link GpuCompactEncodeTest} runs the same checks on a GPU):
 * <ul>
 *   <li>bit-identical to the same encoder reading the dense block back (same graph, the values are copies);</li>
 *   <li>against the f64 reference of the JumpReLU spec and the scalar encoder: identical active sets for every
 *   (token, feature) outside the rounding band, values within it. The band is the kernel parity tests' f32 bound
 *   (d_in+2)·2^-24·(|b| + Σ|x_k W_kc|), plus 2^-8·Σ|x_k W_kc| with bf16 weights (ggml rounds x to bf16 for a bf16
 *   matmul, a relative error <= 2^-9 per product) and 2^-10·Σ|x_k W_kc| for f32 on a GPU (TF32 tensor cores).</li>
 * </ul>
 * Token 0 is BOS-like (8x the input scale: far more active features than the 256 slots, so it comes back as a dense
 * row), token 1 is all zero, the rest are N(0, 1) inputs the SAE was calibrated for.
 */
class GgmlCompactEncodeTest {
    @TempDir Path tmp;

    @ParameterizedTest(name = "{0} x {1} {2}, {3} tokens, block {4}")
    @CsvSource({"2304,16384,f32,16,6", "2304,16384,bf16,16,6", "128,262144,f32,10,4"})
    void compactEncodeEqualsDenseReadBackAndTheScalarReference(int dIn, int dSae, String fmt, int n, int block) throws IOException {
        check(write(tmp, dIn, dSae, fmt), fmt, GgmlJumpRelu.Device.CPU, n, block, true);
    }

    @org.junit.jupiter.api.Test
    void gpuBlocksAreAsLargeAsTheComputeBufferBudgetAllows() {
        assertEquals(4096, GgmlSaeEncoder.gpuCompactBlock(16384, 80L << 30));
        assertEquals(1024, GgmlSaeEncoder.gpuCompactBlock(262144, 20L << 30)); // 10 GiB / (34 B x 262144) = 1204 -> 1024
        assertEquals(768, GgmlSaeEncoder.gpuCompactBlock(262144, 0)); // unknown free memory: 8 GiB -> 963 -> 768
        assertEquals(240, GgmlSaeEncoder.gpuCompactBlock(262144, 4L << 30)); // a small card: 2 GiB -> 240 tokens
        assertEquals(1, GgmlSaeEncoder.gpuCompactBlock(262144, 1L << 20));
    }

    /** Writes a toy SAE of Gemma-Scope-like sparsity (L0 ~60): an f32 params.npz, or a SAELens dir of bf16 matrices. */
    static Path write(Path tmp, int dIn, int dSae, String fmt) throws IOException {
        boolean bf16 = fmt.equals("bf16");
        Path src = bf16 ? tmp.resolve("sae-bf16") : tmp.resolve("layer_12/width/params.npz");
        long t0 = System.nanoTime();
        ToySae.Builder toy = ToySae.builder(dIn, dSae, 20 + dSae).targetL0(60);
        if (bf16) toy.writeSaeLensDir(src, WeightFormat.BF16);
        else {
            java.nio.file.Files.createDirectories(src.getParent());
            toy.writeGemmaScopeNpz(src);
        }
        System.out.printf("toy SAE %d x %d %s written in %.1f s%n", dIn, dSae, fmt, (System.nanoTime() - t0) / 1e9);
        return src;
    }

    /**
     * Encodes n tokens of {@link #inputs} with the compact and the dense read-back on {@code dev} (blocks of
     * {@code block} tokens, 0: the encoder's choice) and checks both against the f64 reference (and the scalar
     * encoder when {@code withScalar}).
     */
    static void check(Path src, String fmt, GgmlJumpRelu.Device dev, int n, int block, boolean withScalar) throws IOException {
        boolean bf16 = fmt.equals("bf16");
        EncoderOptions opts = new EncoderOptions(2, 512, 64);
        try (Sae sae = Sae.load(src.toString());
             GgmlSaeEncoder compact = new GgmlSaeEncoder(sae, opts, dev, GgmlSaeEncoder.Readback.COMPACT, block, GgmlJumpRelu.DEFAULT_CAPACITY);
             GgmlSaeEncoder dense = new GgmlSaeEncoder(sae, opts, dev, GgmlSaeEncoder.Readback.DENSE, block, GgmlJumpRelu.DEFAULT_CAPACITY)) {
            assertEquals(bf16 ? WeightFormat.BF16 : WeightFormat.F32, sae.wEnc().format());
            int dIn = sae.dIn(), dSae = sae.dSae();
            if (dev == GgmlJumpRelu.Device.GPU) assertTrue(compact.backend().startsWith("CUDA"), "ggml-gpu ran on " + compact.backend());
            float[] x = inputs(n, dIn, 9);
            long c0 = System.nanoTime();
            SparseCodes a = compact.encode(x, n);
            double compactS = (System.nanoTime() - c0) / 1e9;
            long d0 = System.nanoTime();
            SparseCodes b = dense.encode(x, n);
            double denseS = (System.nanoTime() - d0) / 1e9;
            SaeReference.assertSameCodes(a, b, "compact vs dense read-back");
            double extra = (bf16 ? 0x1p-8 : 0) + (dev == GgmlJumpRelu.Device.GPU && !bf16 ? 0x1p-10 : 0);
            int[] st;
            if (withScalar) {
                try (SaeEncoder scalar = SaeEncoders.create(sae, "scalar", opts)) {
                    st = compare(sae, x, n, extra, a, scalar.encode(x, n));
                }
            } else {
                st = compare(sae, x, n, extra, a);
            }
            long l0 = 0;
            for (int t = 2; t < n; t++) l0 += a.indices(t).length;
            double meanL0 = (double) l0 / (n - 2);
            System.out.printf("ggml compact %s %d x %d %s, %d tokens (block %d): %d decisions compared, %d in the band; BOS-like token %d active, "
                            + "mean L0 %.1f; read back %d bytes compact vs %d dense; %.3f s vs %.3f s%n",
                    compact.backend(), dIn, dSae, fmt, n, compact.blockTokens(), st[0], st[1], a.indices(0).length, meanL0,
                    compact.bytesReadBack(), dense.bytesReadBack(), compactS, denseS);
            assertTrue(st[0] > 0.97 * n * dSae, "compared only " + st[0] + " of " + (long) n * dSae);
            assertTrue(a.indices(0).length > GgmlJumpRelu.DEFAULT_CAPACITY, "the BOS-like token should exceed the capacity: " + a.indices(0).length);
            assertTrue(meanL0 > 10 && meanL0 < 200, "toy SAE sparsity: mean L0 " + meanL0);
            assertEquals(4L * n * dSae, dense.bytesReadBack());
            assertTrue(compact.bytesReadBack() * 4 < dense.bytesReadBack(), compact.bytesReadBack() + " vs " + dense.bytesReadBack());
        }
    }

    /** Token 0: 8x scale (BOS-like), token 1: zero, the rest N(0, 1). */
    static float[] inputs(int n, int dIn, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * dIn];
        for (int t = 0; t < n; t++) {
            double scale = t == 0 ? 8 : t == 1 ? 0 : 1;
            for (int k = 0; k < dIn; k++) x[t * dIn + k] = (float) (scale * r.nextGaussian());
        }
        return x;
    }

    /**
     * Checks every encoding against the f64 reference outside the band: same gate, value within it. Returns
     * {compared, in the band}.
     */
    static int[] compare(Sae sae, float[] x, int n, double extraRel, SparseCodes... codes) {
        int dIn = sae.dIn(), dSae = sae.dSae();
        Weights w = sae.wEnc();
        boolean tr = sae.wEncTransposed();
        double[][] pre = new double[n][dSae], mag = new double[n][dSae];
        for (int t = 0; t < n; t++) {
            for (int f = 0; f < dSae; f++) {
                double b = sae.bEnc().getAtIndex(Sae.F32, f);
                pre[t][f] = b;
                mag[t][f] = Math.abs(b);
            }
        }
        float[] col = new float[n];
        for (int k = 0; k < dIn; k++) {
            for (int t = 0; t < n; t++) col[t] = x[t * dIn + k];
            for (int f = 0; f < dSae; f++) {
                double wk = tr ? w.get(f, k) : w.get(k, f);
                for (int t = 0; t < n; t++) {
                    double p = col[t] * wk;
                    pre[t][f] += p;
                    mag[t][f] += Math.abs(p);
                }
            }
        }
        MemorySegment thr = sae.encodeThreshold();
        int compared = 0, band = 0;
        for (int t = 0; t < n; t++) {
            float[][] dense = new float[codes.length][dSae];
            boolean[][] on = new boolean[codes.length][dSae];
            for (int e = 0; e < codes.length; e++) {
                int[] idx = codes[e].indices(t);
                float[] val = codes[e].values(t);
                for (int i = 0; i < idx.length; i++) { dense[e][idx[i]] = val[i]; on[e][idx[i]] = true; }
            }
            for (int f = 0; f < dSae; f++) {
                double th = thr.getAtIndex(Sae.F32, f);
                double tol = ((dIn + 2) * 0x1p-24 + extraRel) * mag[t][f];
                if (Math.abs(pre[t][f] - th) <= tol) { band++; continue; }
                compared++;
                boolean want = pre[t][f] > th;
                for (int e = 0; e < codes.length; e++) {
                    assertEquals(want, on[e][f], "encoding " + e + ": gate differs at token " + t + " feature " + f + " (pre " + pre[t][f] + ", thr " + th + ")");
                    if (want) assertEquals(pre[t][f], dense[e][f], tol, "encoding " + e + ": value at token " + t + " feature " + f);
                }
            }
        }
        return new int[] {compared, band};
    }
}
