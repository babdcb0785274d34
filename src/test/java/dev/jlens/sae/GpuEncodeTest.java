package dev.jlens.sae;

import dev.jlens.kernels.WeightFormat;
import dev.jlens.llama.Backends;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The ggml encoder on the GPU backend ({@code --encoder ggml-gpu}) against the f64 reference of the
 * JumpReLU spec, on Gemma Scope's 16k shape. Runs only where the llama.cpp build registered a GPU device;
 * skipped with that reason elsewhere. CUDA may run an f32 matmul on tensor cores in TF32 (inputs rounded
 * to 10 mantissa bits), so the tie band is the TF32 bound 2^-10·Σ|x_k W_kc| plus the f32 summation bound;
 * every (token, feature) outside it must agree exactly on the gate and within the band on the value.
 */
class GpuEncodeTest {
    @TempDir Path tmp;

    @BeforeEach
    void needsGpu() {
        assumeFalse(Backends.gpus().isEmpty(), "no GPU device registered by this llama.cpp build (CPU-only build or no GPU here): "
                + "build with scripts/build-native.sh --cuda on a machine with an NVIDIA GPU");
    }

    @Test
    void gpuEncoderEqualsTheReferenceOnTheActiveSet() throws Exception {
        int dIn = 2304, dSae = 16384, nTok = 48;
        GgmlSaeEncoderTest.Random rnd = GgmlSaeEncoderTest.random(dIn, dSae, nTok, 11);
        GgmlSaeEncoderTest helper = new GgmlSaeEncoderTest();
        helper.tmp = tmp;
        try (Sae sae = helper.write("gpu16k", dIn, dSae, rnd);
             SaeEncoder gpu = SaeEncoders.create(sae, "ggml-gpu", new EncoderOptions(2, 512, 64))) {
            String backend = ((GgmlSaeEncoder) gpu).backend();
            assertTrue(backend.startsWith("CUDA"), "ggml-gpu ran on " + backend);
            SparseCodes codes = gpu.encode(rnd.x(), nTok);
            int[] stats = GgmlSaeEncoderTest.compare(codes, rnd, dIn, dSae, nTok, 0x1p-10); // TF32 band
            System.out.printf("ggml-gpu 2304x16384, %d tokens: %d decisions compared, %d inside the TF32 tie band, mean L0 %.1f%n",
                    nTok, stats[0], stats[1], (double) codes.nnz() / nTok);
            assertTrue(stats[0] > nTok * dSae * 0.95, "too many ties: " + stats[1]);
            assertTrue(codes.nnz() > 0, "nothing active");
        }
    }

    @Test
    void gpuBf16WeightsAgreeWithTheCpuOnAlmostAllActiveFeatures() throws Exception {
        int dIn = 2304, dSae = 16384, nTok = 32;
        GgmlSaeEncoderTest.Random rnd = GgmlSaeEncoderTest.random(dIn, dSae, nTok, 5);
        GgmlSaeEncoderTest helper = new GgmlSaeEncoderTest();
        helper.tmp = tmp;
        Path bf16Dir = tmp.resolve("bf16");
        try (Sae f32 = helper.write("f32", dIn, dSae, rnd)) {
            SaeWriter.writeSaeLensDir(f32, bf16Dir, WeightFormat.BF16);
        }
        try (Sae bf16 = Sae.loadSaeLensDir(bf16Dir);
             SaeEncoder gpu = SaeEncoders.create(bf16, "ggml-gpu", new EncoderOptions(2, 512, 64));
             SaeEncoder cpu = SaeEncoders.create(bf16, "scalar", new EncoderOptions(2, 512, 64))) {
            SparseCodes a = gpu.encode(rnd.x(), nTok), b = cpu.encode(rnd.x(), nTok);
            long inter = 0, union = 0;
            for (int t = 0; t < nTok; t++) {
                Set<Integer> sa = new HashSet<>(), sb = new HashSet<>();
                for (int i : a.indices(t)) sa.add(i);
                for (int i : b.indices(t)) sb.add(i);
                Set<Integer> u = new HashSet<>(sa);
                u.addAll(sb);
                sa.retainAll(sb);
                inter += sa.size();
                union += u.size();
            }
            double jaccard = (double) inter / union;
            System.out.printf("ggml-gpu vs scalar, bf16 weights: active-set Jaccard %.5f over %d features%n", jaccard, union);
            assertTrue(jaccard > 0.995, "GPU vs CPU active sets on identical bf16 weights: " + jaccard);
        }
    }
}
