package dev.jlens.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.formats.GgmlType;
import dev.jlens.pipeline.Json;
import dev.jlens.pipeline.ToyModelJob;
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
        Bench.main(new String[] {"e2e", "model=" + m, "coarse=" + sae, "fine=" + sae, "limit=3", "repeat=2", "threads=1", "permutations=20",
                "work=" + dir.resolve("e2e"), "out=" + res.resolve("e2e-12.json")});

        JsonNode cap = Json.MAPPER.readTree(res.resolve("capture-4.json").toFile());
        assertTrue(cap.path("tokens_per_s").asDouble() > 0, "capture measured no throughput: " + cap);
        JsonNode enc = Json.MAPPER.readTree(res.resolve("encode-96-f32-vector.json").toFile());
        assertEquals(13, enc.path("tokens").asInt());
        assertTrue(enc.path("gflops").asDouble() > 0, "encode measured nothing: " + enc);
        JsonNode e2e = Json.MAPPER.readTree(res.resolve("e2e-12.json").toFile());
        assertEquals(12, e2e.path("prompts").asInt(), "3 prompts of each set, repeated twice");
        assertTrue(e2e.path("VmHWM_kib").asLong() > 0);
        assertTrue(e2e.path("stage_seconds").has("capture"), "stage times come from the experiment: " + e2e);
        assertTrue(!Files.exists(dir.resolve("e2e").resolve("cache")), "the activation cache is removed so a rerun captures again");

        Path md = dir.resolve("benchmarks.md");
        Bench.main(new String[] {"report", "results=" + res, "out=" + md});
        String doc = Files.readString(md);
        for (String s : new String[] {"## Targets", "capture >= 2.2x", "callback overhead <= 2%", "Vector >= 1.0x ggml", "peak RSS <= 4.0 GiB",
                "llama-bench result missing"}) {
            assertTrue(doc.contains(s), "report lacks '" + s + "':\n" + doc);
        }
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
