package dev.jlens.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.formats.GgmlType;
import dev.jlens.util.Json;
import dev.jlens.toy.ToyModelJob;
import dev.jlens.sae.ToySae;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every benchmark of the driver in a tiny "smoke" mode on the tiny model and a small SAE, then the
 * report, so the bench cannot rot. It checks the plumbing and that figures are real measurements, not speed.
 */
class BenchSmokeTest {
    @Test
    void everyBenchmarkRunsOnTheTinyModelAndTheReportNamesEachTarget(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny.gguf");
        ToyModelJob.write(model, ToyModelJob.Kind.TINY, GgmlType.F32, 1);
        // the hook layer of a bare params.npz is read from a layer_N folder above it, as in Gemma Scope
        Path sae = Files.createDirectories(dir.resolve("layer_12").resolve("width_96")).resolve("params.npz");
        ToySae.builder(64, 96, 3).targetL0(8).writeGemmaScopeNpz(sae);
        Path res = Files.createDirectories(dir.resolve("results"));
        String m = model.toString();
        Bench.main(new String[] {"peak", "threads=1", "runs=1", "iterations=20000", "out=" + res.resolve("peak.json")});
        Bench.main(new String[] {"capture", "model=" + m, "prompts=4", "threads=1", "runs=1", "out=" + res.resolve("capture-4.json")});
        Bench.main(new String[] {"overhead", "model=" + m, "tokens=24", "threads=1", "runs=1", "out=" + res.resolve("overhead.json")});
        for (String kind : new String[] {"vector", "ggml"}) {
            Bench.main(new String[] {"encode", "sae=" + sae, "kind=" + kind, "tokens=13", "threads=1", "runs=1",
                    "out=" + res.resolve("encode-96-f32-" + kind + ".json")});
        }
        Bench.main(new String[] {"encode-ab", "sae=" + sae, "tokens=13", "threads=1", "runs=2", "out=" + res.resolve("encode-ab-96-f32.json")});
        Path calibrated = dir.resolve("layer_12").resolve("width_96-model").resolve("params.npz");
        Bench.main(new String[] {"model-sae", "model=" + m, "d_sae=96", "l0=8", "prompts=6", "threads=1", "npz=" + calibrated,
                "out=" + res.resolve("model-sae-96.json")});
        Bench.main(new String[] {"e2e", "model=" + m, "coarse=" + sae, "fine=" + sae, "limit=3", "repeat=2", "threads=1", "permutations=20",
                "work=" + dir.resolve("e2e"), "out=" + res.resolve("e2e-12.json")});

        JsonNode cap = Json.MAPPER.readTree(res.resolve("capture-4.json").toFile());
        assertTrue(cap.path("tokens_per_s").asDouble() > 0, "capture measured no throughput: " + cap);
        JsonNode enc = Json.MAPPER.readTree(res.resolve("encode-96-f32-vector.json").toFile());
        assertEquals(13, enc.path("tokens").asInt());
        assertTrue(enc.path("gflops").asDouble() > 0, "encode measured nothing: " + enc);
        JsonNode ab = Json.MAPPER.readTree(res.resolve("encode-ab-96-f32.json").toFile());
        assertEquals(2, ab.path("pair_ratios").size(), "one ratio per alternating pair: " + ab);
        assertTrue(ab.path("vector_vs_ggml").asDouble() > 0 && ab.path("mean_l0_vector").asDouble() == ab.path("mean_l0_ggml").asDouble(), ab.toString());
        JsonNode cal = Json.MAPPER.readTree(res.resolve("model-sae-96.json").toFile());
        assertTrue(cal.path("input_std").asDouble() > 0 && cal.path("calibration_rows").asInt() > 0, cal.toString());
        assertTrue(cal.path("realised_mean_l0").asDouble() > 0 && cal.path("realised_mean_l0").asDouble() < 96, "L0 is measured on the rows: " + cal);
        assertTrue(Files.isRegularFile(calibrated));
        JsonNode e2e = Json.MAPPER.readTree(res.resolve("e2e-12.json").toFile());
        assertEquals(12, e2e.path("prompts").asInt(), "3 prompts of each set, repeated twice");
        assertTrue(e2e.path("VmHWM_kib").asLong() > 0);
        assertTrue(e2e.path("stage_seconds").has("capture"), "stage times come from the experiment: " + e2e);
        assertTrue(!Files.exists(dir.resolve("e2e").resolve("cache")), "the activation cache is removed so a rerun captures again");

        Path md = dir.resolve("benchmarks.md");
        Bench.main(new String[] {"report", "results=" + res, "out=" + md});
        String doc = Files.readString(md);
        for (String s : new String[] {"## Targets", "capture >= 2.2x", "callback overhead <= 2%", "Vector >= 1.0x ggml", "peak RSS <= 4.0 GiB",
                "llama-bench result missing", "vector / ggml (median pair)", "calibrated to the model's layer-12 residual", "written between", "llama.cpp CPU backend"}) {
            assertTrue(doc.contains(s), "report lacks '" + s + "':\n" + doc);
        }
    }

    @Test
    void theGpuSectionIsWrittenIntoTheDocumentAndSurvivesACpuRewrite(@TempDir Path dir) throws Exception {
        Path model = dir.resolve("tiny-q8_0.gguf");
        ToyModelJob.write(model, ToyModelJob.Kind.TINY, GgmlType.Q8_0, 1);
        Path sae = Files.createDirectories(dir.resolve("layer_12").resolve("width_96")).resolve("params.npz");
        ToySae.builder(64, 96, 3).targetL0(8).writeGemmaScopeNpz(sae);
        Path gpu = Files.createDirectories(dir.resolve("results-gpu")), cpu = Files.createDirectories(dir.resolve("results-cpu"));
        // the renderer reads result files; on this GPU-less machine they come from the CPU backend
        Bench.main(new String[] {"capture", "model=" + model, "prompts=3", "threads=1", "runs=1", "out=" + gpu.resolve("capture-gpu-q8_0-3.json")});
        Bench.main(new String[] {"encode", "sae=" + sae, "kind=ggml-gpu", "tokens=5", "threads=1", "runs=1", "out=" + gpu.resolve("encode-96-f32-ggml-gpu.json")});
        Files.writeString(gpu.resolve("llama-bench-q8_0.json"), "[{\"n_prompt\": 512, \"n_gen\": 0, \"n_gpu_layers\": 99, \"n_ubatch\": 512, "
                + "\"flash_attn\": false, \"avg_ts\": 1000.0, \"stddev_ts\": 5.0, \"samples_ts\": [1000.0]}]");
        Files.writeString(gpu.resolve("env.properties"), "gpu=Test GPU, 1 MiB\ncuda_archs=90\n");
        Bench.main(new String[] {"peak", "threads=1", "runs=1", "iterations=20000", "out=" + cpu.resolve("peak.json")});

        Path md = dir.resolve("benchmarks.md");
        Bench.main(new String[] {"report", "results=" + cpu, "out=" + md});
        Bench.main(new String[] {"report-gpu", "results=" + gpu, "out=" + md});
        String doc = Files.readString(md);
        assertTrue(doc.startsWith("# jlens benchmarks"), doc);
        for (String s : new String[] {"## GPU (CUDA backend)", "Test GPU", "| q8_0 | 3 |", "encode-96-f32-ggml-gpu | CPU |", "pp512, n_gpu_layers 99"}) {
            assertTrue(doc.contains(s), "GPU section lacks '" + s + "':\n" + doc);
        }
        Bench.main(new String[] {"report-gpu", "results=" + gpu, "out=" + md});
        String twice = Files.readString(md);
        assertEquals(1, twice.split("## GPU \\(CUDA backend\\)", -1).length - 1, "a second GPU run replaces the section");
        Bench.main(new String[] {"report", "results=" + cpu, "out=" + md});
        String after = Files.readString(md);
        assertTrue(after.contains("## FMA peak") && after.contains("Test GPU"), "a CPU rewrite keeps the GPU section:\n" + after);
    }

    @Test
    void fmaLoopLanesEqualTheScalarChain() {
        for (long n : new long[] {1, 7, 13, 2305}) {
            float expect = FmaPeak.scalarChain(n) * 10 * FmaPeak.lanes();
            assertEquals(expect, FmaPeak.loop(n), Math.abs(expect) * 1e-6f, "iterations " + n);
        }
    }

    @Test
    void medianOfEvenAndOddSampleCounts() {
        assertEquals(2.0, Bench.median(new double[] {3, 1, 2}));
        assertEquals(2.5, Bench.median(new double[] {4, 1, 3, 2}));
    }
}
