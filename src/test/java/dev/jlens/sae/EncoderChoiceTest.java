package dev.jlens.sae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.kernels.KernelProvider;
import dev.jlens.kernels.WeightFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --encoder auto}'s rule over CPU feature sets and weight types, the flags read from a cpuinfo file, and one
 * real calibration run of the two encoders on a small SAE.
 */
class EncoderChoiceTest {
    /** Flags of the AVX-512-BF16 zen4 machine the issue measured, and of this repository's AVX2 EPYC (abridged). */
    static final Set<String> ZEN4 = Set.of("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "avx512_vnni");
    static final Set<String> AVX2 = Set.of("sse4_2", "avx", "avx2", "fma", "f16c");

    @Test
    void autoPicksGgmlForBf16WeightsOnlyWhereTheCpuMultipliesBf16Natively() {
        var zen4 = new EncoderChoice.Machine(ZEN4, true);
        var avx2 = new EncoderChoice.Machine(AVX2, true);
        assertEquals("ggml", EncoderChoice.of(WeightFormat.BF16, "auto", zen4).kind());
        assertTrue(EncoderChoice.of(WeightFormat.BF16, "auto", zen4).reason().contains("avx512_bf16"));
        assertEquals("vector", EncoderChoice.of(WeightFormat.F32, "auto", zen4).kind(), "in f32 the Vector API led ggml 1.32x on zen4");
        assertEquals("vector", EncoderChoice.of(WeightFormat.BF16, "auto", avx2).kind());
        assertEquals("vector", EncoderChoice.of(WeightFormat.F32, "auto", avx2).kind());
        assertEquals("vector", EncoderChoice.of(WeightFormat.BF16, "auto", new EncoderChoice.Machine(Set.of(), true)).kind(), "unknown CPU");
    }

    @Test
    void withoutTheVectorApiAutoPicksGgmlAndSaysHowToEnableIt() {
        for (Set<String> flags : java.util.List.of(ZEN4, AVX2, Set.<String>of())) {
            for (WeightFormat f : WeightFormat.values()) {
                EncoderChoice c = EncoderChoice.of(f, "auto", new EncoderChoice.Machine(flags, false));
                assertEquals("ggml", c.kind(), flags + " " + f);
                assertTrue(c.reason().contains("--add-modules jdk.incubator.vector"), c.reason());
            }
        }
    }

    @Test
    void anExplicitEncoderIsKeptAndRecordedAsAskedFor() {
        for (String k : new String[] {"vector", "ggml", "ggml-gpu", "scalar", "VECTOR"}) {
            EncoderChoice c = EncoderChoice.of(WeightFormat.BF16, k, new EncoderChoice.Machine(ZEN4, true));
            assertEquals(k.toLowerCase(), c.kind());
            assertEquals("asked for with --encoder " + k.toLowerCase(), c.reason());
        }
        assertThrows(IllegalArgumentException.class, () -> EncoderChoice.of(WeightFormat.F32, "fastest", new EncoderChoice.Machine(AVX2, true)));
        EncoderChoice c = EncoderChoice.of(WeightFormat.BF16, "auto", new EncoderChoice.Machine(ZEN4, true));
        assertEquals(c.reason(), c.reasonFor("ggml"));
        assertTrue(c.reasonFor("scalar").endsWith("ggml could not run here, so scalar"), c.reasonFor("scalar"));
    }

    @Test
    void cpuFlagsComeFromTheFirstProcessorOfCpuinfo(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("cpuinfo");
        Files.writeString(f, "processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu sse4_2 AVX2 fma avx512f avx512_bf16\n\n"
                + "processor\t: 1\nflags\t\t: fpu\n");
        assertEquals(Set.of("fpu", "sse4_2", "avx2", "fma", "avx512f", "avx512_bf16"), EncoderChoice.Machine.cpuFlags(f));
        Files.writeString(f, "processor\t: 0\nFeatures\t: fp asimd\n");
        assertEquals(Set.of(), EncoderChoice.Machine.cpuFlags(f), "no x86 flags line (e.g. arm64)");
        assertEquals(Set.of(), EncoderChoice.Machine.cpuFlags(dir.resolve("absent")));
    }

    @Test
    void theCurrentMachineGetsTheRulesChoiceAndTheEncoderAutoCreatesIt(@TempDir Path dir) throws Exception {
        Path npz = Files.createDirectories(dir.resolve("layer_3").resolve("w")).resolve("params.npz");
        ToySae.builder(64, 96, 3).layer(3).targetL0(8).writeGemmaScopeNpz(npz);
        try (Sae sae = Sae.load(npz.toString())) {
            EncoderChoice.Machine m = EncoderChoice.Machine.current();
            assertEquals(KernelProvider.vector().isPresent(), m.vectorApi());
            EncoderChoice c = EncoderChoice.of(sae, "auto");
            assertEquals(EncoderChoice.of(sae.wEnc().format(), "auto", m), c);
            try (SaeEncoder e = SaeEncoders.create(sae, "auto")) {
                assertEquals(c.kind(), e.kind(), "SaeEncoders' auto creates what EncoderChoice chose: " + c);
            }
        }
    }

    @Test
    void oneRealCalibrationTimesBothEncodersOnTheSae(@TempDir Path dir) throws Exception {
        Path npz = Files.createDirectories(dir.resolve("layer_3").resolve("w")).resolve("params.npz");
        ToySae.builder(64, 256, 5).layer(3).targetL0(16).writeGemmaScopeNpz(npz);
        try (Sae sae = Sae.load(npz.toString())) {
            Map<String, Object> cal = EncoderChoice.calibrate(sae, 96, 1, 3);
            double v = (Double) cal.get("vector_s"), g = (Double) cal.get("ggml_s");
            assertTrue(v > 0 && g > 0, "both encoders were timed: " + cal);
            assertEquals(v <= g ? "vector" : "ggml", cal.get("kind"), cal.toString());
            assertEquals(EncoderChoice.of(sae, "auto").kind(), cal.get("rule"));
            assertEquals(96, cal.get("tokens"));
        }
    }
}
