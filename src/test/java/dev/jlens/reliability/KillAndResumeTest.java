package dev.jlens.reliability;

import dev.jlens.analysis.PromptSet;
import dev.jlens.isolated.JavaProcess;
import dev.jlens.study.ConceptExperiment;
import dev.jlens.util.Progress;
import dev.jlens.sae.ToySae;
import dev.jlens.formats.GgmlType;
import dev.jlens.toy.ToyModelJob;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * kill -9 of a running experiment (child JVM) at known points, then an in-process re-run with the same
 * config: results.json byte-identical to an uninterrupted run, and only the missing shards recomputed.
 */
class KillAndResumeTest {
    @TempDir static Path dir;
    static Path model, coarse, fine, target, control;
    static byte[] reference;
    static final int SHARDS = 6; // 12 + 12 prompts, 4 per batch

    @BeforeAll
    static void files() throws IOException {
        model = dir.resolve("tiny.gguf");
        ToyModelJob.write(model, ToyModelJob.Kind.TINY, GgmlType.F32, 7);
        coarse = dir.resolve("coarse/layer_12/width_128/params.npz");
        ToySae.builder(64, 128, 1).targetL0(12).writeGemmaScopeNpz(coarse);
        fine = dir.resolve("fine/layer_12/width_512/params.npz");
        ToySae.builder(64, 512, 2).targetL0(16).writeGemmaScopeNpz(fine);
        target = subset("france", 12);
        control = subset("neutral", 12);
        var r = ConceptExperiment.run(ExperimentChildMain.config(model, coarse, fine, target, control, dir.resolve("ref"), dir.resolve("ref-cache")),
                Progress.NONE);
        assertEquals(SHARDS, r.shardsComputed());
        reference = Files.readAllBytes(dir.resolve("ref/results.json"));
    }

    static Path subset(String set, int n) throws IOException {
        Path f = dir.resolve(set + ".jsonl");
        StringBuilder b = new StringBuilder();
        var w = dev.jlens.util.Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);
        for (PromptSet.Prompt p : PromptSet.builtin(set).prompts().subList(0, n)) {
            var m = new java.util.LinkedHashMap<String, String>();
            m.put("text", p.text());
            if (p.facet() != null) m.put("facet", p.facet());
            b.append(w.writeValueAsString(m)).append('\n');
        }
        Files.writeString(f, b.toString());
        return f;
    }

    /** Starts the child, SIGKILLs it when it prints {@code killAt}, and returns its exit code. */
    static int runAndKill(Path out, Path cache, String killAt) throws Exception {
        Process p = JavaProcess.builder(ExperimentChildMain.class.getName(), List.of(model.toString(), coarse.toString(), fine.toString(),
                target.toString(), control.toString(), out.toString(), cache.toString(), "400")).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.equals(killAt)) {
                    assertTrue(p.isAlive());
                    p.destroyForcibly(); // SIGKILL: no shutdown hooks, no finally blocks
                    break;
                }
                assertNotEquals("DONE", line, "the child finished before the kill point " + killAt);
            }
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return p.exitValue();
    }

    static long validShardMetas(Path cache) throws IOException {
        try (Stream<Path> s = Files.walk(cache)) {
            return s.filter(f -> f.getFileName().toString().matches("shard-\\d+\\.json")).count();
        }
    }

    @Test
    void killedAfterTwoShardsTheRerunCapturesOnlyTheMissingFourAndMatchesByteForByte() throws Exception {
        Path out = dir.resolve("run-a"), cache = dir.resolve("cache-a");
        assertEquals(137, runAndKill(out, cache, "P capture 8 24"));
        assertEquals(2, validShardMetas(cache), "two shards were complete when the child was killed");
        assertFalse(Files.exists(out.resolve("results.json")), "no partial results.json");
        var r = ConceptExperiment.run(ExperimentChildMain.config(model, coarse, fine, target, control, out, cache), Progress.NONE);
        assertEquals(SHARDS - 2, r.shardsComputed());
        assertArrayEquals(reference, Files.readAllBytes(out.resolve("results.json")));
    }

    @Test
    void killedDuringEncodingTheRerunCapturesNothingAndMatchesByteForByte() throws Exception {
        Path out = dir.resolve("run-b"), cache = dir.resolve("cache-b");
        assertEquals(137, runAndKill(out, cache, "P encode_coarse 3 6"));
        assertEquals(SHARDS, validShardMetas(cache));
        assertFalse(Files.exists(out.resolve("results.json")));
        var r = ConceptExperiment.run(ExperimentChildMain.config(model, coarse, fine, target, control, out, cache), Progress.NONE);
        assertEquals(0, r.shardsComputed(), "every capture shard survived the kill");
        assertArrayEquals(reference, Files.readAllBytes(out.resolve("results.json")));
        try (Stream<Path> s = Files.walk(out)) {
            assertEquals(List.of(), s.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList(), "no temp files in the run folder");
        }
    }
}
