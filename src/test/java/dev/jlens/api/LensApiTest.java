package dev.jlens.api;

import dev.jlens.formats.GgmlType;
import dev.jlens.toy.ToyModelJob;
import dev.jlens.sae.ToySae;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The public API end to end on the generated toy model and a toy SAE, through dev.jlens.api only. */
class LensApiTest {
    @TempDir static Path dir;
    static Path model, sae;

    @BeforeAll
    static void files() throws Exception {
        model = dir.resolve("toy.gguf");
        ToyModelJob.write(model, ToyModelJob.Kind.TINY, GgmlType.F32, 3);
        sae = Files.createDirectories(dir.resolve("layer_5").resolve("width_128")).resolve("params.npz");
        ToySae.builder(64, 128, 9).targetL0(10).layer(5).writeGemmaScopeNpz(sae);
    }

    @Test
    void captureEncodeAndTopFeatures() throws Exception {
        try (LensModel m = LensModel.load(model);
             LensSession s = m.newSession(256, 2);
             LayerActivations x = s.capture(List.of("The capital of France is Paris.", "A cat sat on the mat."), 5);
             SparseAutoencoder e = SparseAutoencoder.load(sae.toString())) {
            assertEquals(64, x.dModel());
            assertEquals(5, x.layer());
            assertTrue(x.isBos(0), "row 0 is the first prompt's BOS");
            assertEquals(0, x.prompt(0));
            assertEquals(1, x.prompt(x.rows() - 1));
            FeatureActivations f = e.encode(x);
            assertEquals(x.rows(), f.rows());
            assertEquals(128, f.width());
            for (int r = 0; r < f.rows(); r++) {
                List<FeatureActivations.Feature> top = f.top(r, 3);
                for (int i = 1; i < top.size(); i++) assertTrue(top.get(i - 1).activation() >= top.get(i).activation());
            }
        }
    }

    @Test
    void gpuCaptureNeedsAGpuAndSaysSo() {
        assumeFalse(LensModel.hasGpu(), "this machine has a GPU device");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> LensModel.loadForGpuCapture(model, 5));
        assertTrue(e.getMessage().contains("no GPU device"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LensModel.loadForGpuCapture(model, -1));
    }

    @Test
    void gpuCaptureMatchesTheCpuWithinRounding() {
        assumeTrue(LensModel.hasGpu(), "no GPU device registered by this llama.cpp build (CPU-only build or no GPU here)");
        List<String> ps = List.of("The capital of France is Paris.", "A cat sat on the mat.");
        try (LensModel cpu = LensModel.load(model); LensSession a = cpu.newSession(256, 2); LayerActivations x = a.capture(ps, 5);
             LensModel gpu = LensModel.loadForGpuCapture(model, 5); LensSession b = gpu.newSession(256, 2); LayerActivations y = b.capture(ps, 5)) {
            double num = 0, den = 0;
            for (int r = 0; r < x.rows(); r++) {
                float[] u = x.row(r), v = y.row(r);
                for (int k = 0; k < u.length; k++) { num += (u[k] - v[k]) * (double) (u[k] - v[k]); den += (double) u[k] * u[k]; }
            }
            assertTrue(Math.sqrt(num / den) < 1e-2, "GPU vs CPU relative difference " + Math.sqrt(num / den));
        }
    }
}
