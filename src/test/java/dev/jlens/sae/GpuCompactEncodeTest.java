package dev.jlens.sae;

import dev.jlens.llama.Backends;
import dev.jlens.llama.GgmlJumpRelu;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link GgmlCompactEncodeTest}'s checks on the GPU backend ({@code --encoder ggml-gpu}): compaction on the device,
 * bit-identical to the dense read-back of the same graph, and the f64 reference's active set outside the band
 * (TF32 for f32 weights, bf16 inputs for bf16 weights). Runs only where the llama.cpp build registered a GPU device.
 * The full 2304 x 262144 bf16 SAE is read from {@code -Djlens.test.sae262k=DIR} (scripts/gpu-check.sh passes the
 * one scripts/bench.sh --gpu generated; writing it takes minutes), skipped without it.
 */
class GpuCompactEncodeTest {
    @TempDir Path tmp;

    @BeforeEach
    void needsGpu() {
        assumeFalse(Backends.gpus().isEmpty(), "no GPU device registered by this llama.cpp build (CPU-only build or no GPU here): "
                + "build with scripts/build-native.sh --cuda on a machine with an NVIDIA GPU");
    }

    @ParameterizedTest(name = "{0} x {1} {2}, {3} tokens")
    @CsvSource({"2304,16384,f32,48", "2304,16384,bf16,48", "128,262144,bf16,24"})
    void gpuCompactEncodeEqualsDenseReadBackAndTheReference(int dIn, int dSae, String fmt, int n) throws Exception {
        GgmlCompactEncodeTest.check(GgmlCompactEncodeTest.write(tmp, dIn, dSae, fmt), fmt, GgmlJumpRelu.Device.GPU, n, 0, false);
    }

    @Test
    void gpuCompactEncodeOfTheFull262kBf16Sae() throws Exception {
        String p = System.getProperty("jlens.test.sae262k", "");
        assumeTrue(!p.isEmpty() && Files.exists(Path.of(p)), "no 2304 x 262144 SAE given (-Djlens.test.sae262k=DIR; scripts/gpu-check.sh passes bench.sh's)");
        GgmlCompactEncodeTest.check(Path.of(p), "bf16", GgmlJumpRelu.Device.GPU, 8, 0, false);
    }
}
