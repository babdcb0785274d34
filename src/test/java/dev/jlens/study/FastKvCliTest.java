package dev.jlens.study;

import dev.jlens.toy.ToyModelJob;
import dev.jlens.util.Json;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.analysis.PromptSet;
import dev.jlens.cli.CliRunner;
import dev.jlens.formats.GgmlType;
import dev.jlens.sae.ToySae;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --fast-kv} on {@code capture}, {@code france} and {@code steer}, through the real CLI and llama.cpp: the default
 * numerics (f32 K/V, flash attention off) and the f16 option are both recorded in capture.json and results.json, and
 * their activations are cached apart.
 */
class FastKvCliTest {
    @TempDir static Path dir;
    static Path model, coarse, fine, target, control;

    @BeforeAll
    static void files() throws IOException {
        model = dir.resolve("tiny.gguf");
        ToyModelJob.write(model, ToyModelJob.Kind.TINY, GgmlType.F32, 7);
        coarse = dir.resolve("coarse/layer_12/width_128/params.npz");
        ToySae.builder(64, 128, 1).targetL0(12).writeGemmaScopeNpz(coarse);
        fine = dir.resolve("fine/layer_12/width_1024/params.npz");
        ToySae.builder(64, 1024, 2).targetL0(20).writeGemmaScopeNpz(fine);
        target = dir.resolve("target.jsonl");
        control = dir.resolve("control.jsonl");
        ConceptExperimentResumeTest.writeSubset(PromptSet.builtin("france"), target, 12);
        ConceptExperimentResumeTest.writeSubset(PromptSet.builtin("neutral"), control, 12);
    }

    static CliRunner.Run france(Path out, Path cache, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("france", "--model", model.toString(), "--coarse-sae", coarse.toString(),
                "--fine-sae", fine.toString(), "--target", target.toString(), "--control", control.toString(), "--ctx", "256",
                "--seqs", "8", "--threads", "2", "--encoder", "vector", "--permutations", "100", "--min-activation", "0",
                "--anchors", "3", "--fine-candidates", "10", "--cache", cache.toString(), "--out", out.toString()));
        args.addAll(List.of(extra));
        return CliRunner.run(args.toArray(String[]::new));
    }

    @Test
    void franceRecordsTheNumericsAndCachesF16ActivationsApart() throws IOException {
        Path cache = dir.resolve("cache");
        CliRunner.Run def = france(dir.resolve("f32"), cache);
        assertEquals(0, def.code(), def.err());
        CliRunner.Run fast = france(dir.resolve("f16"), cache, "--fast-kv");
        assertEquals(0, fast.code(), fast.err());
        JsonNode a = Json.MAPPER.readTree(dir.resolve("f32/results.json").toFile()).at("/config/numerics");
        JsonNode b = Json.MAPPER.readTree(dir.resolve("f16/results.json").toFile()).at("/config/numerics");
        assertEquals("f32", a.get("kv_cache_type").asText());
        assertEquals("f16", b.get("kv_cache_type").asText());
        assertFalse(a.get("flash_attention").asBoolean() || b.get("flash_attention").asBoolean());
        assertEquals("F32", a.get("weight_type").asText());
        long actsFolders;
        try (Stream<Path> s = Files.list(cache)) {
            actsFolders = s.filter(p -> p.getFileName().toString().startsWith("acts-")).count();
        }
        assertEquals(2, actsFolders, "an f16-cache capture never reuses f32 activations (or the reverse)");
        assertNotEquals(Json.MAPPER.readTree(dir.resolve("f32/results.json").toFile()).at("/config/activation_cache_key"),
                Json.MAPPER.readTree(dir.resolve("f16/results.json").toFile()).at("/config/activation_cache_key"));

        // steering continues with the numerics of the results it is given: --fast-kv on f32 results is refused
        CliRunner.Run steer = CliRunner.run("steer", "--results", dir.resolve("f32/results.json").toString(), "--fast-kv",
                "--out", dir.resolve("steer").toString());
        assertEquals(2, steer.code(), steer.out() + steer.err());
        assertTrue(steer.err().contains("--fast-kv") && steer.err().contains("f32 K/V cache"), steer.err());
    }

    @Test
    void captureRecordsTheNumericsAndRefusesFastKvInAWorkerProcess() throws IOException {
        Path prompts = dir.resolve("p.txt");
        Files.writeString(prompts, "the capital of France is Paris\nhello world\n");
        for (boolean fast : new boolean[] {false, true}) {
            Path out = dir.resolve(fast ? "cap-f16" : "cap-f32");
            List<String> args = new java.util.ArrayList<>(List.of("capture", "--model", model.toString(), "--prompts", prompts.toString(),
                    "--out", out.toString(), "--ctx", "256", "--threads", "2"));
            if (fast) args.add("--fast-kv");
            CliRunner.Run r = CliRunner.run(args.toArray(String[]::new));
            assertEquals(0, r.code(), r.err());
            JsonNode n = Json.MAPPER.readTree(out.resolve("capture.json").toFile()).get("numerics");
            assertEquals(fast ? "f16" : "f32", n.get("kv_cache_type").asText());
            assertFalse(n.get("flash_attention").asBoolean());
            assertEquals("F32", n.get("weight_type").asText());
        }
        CliRunner.Run isolated = CliRunner.run("capture", "--model", model.toString(), "--prompts", prompts.toString(),
                "--out", dir.resolve("cap-iso").toString(), "--ctx", "256", "--threads", "2", "--fast-kv", "--isolated");
        assertEquals(2, isolated.code(), isolated.err());
        assertTrue(isolated.err().contains("--fast-kv is not supported with --isolated"), isolated.err());
        for (String cmd : new String[] {"capture", "france", "steer"}) {
            CliRunner.Run help = CliRunner.run(cmd, "--help");
            assertTrue(help.out().contains("--fast-kv") && help.out().contains("f16 K/V cache"), cmd + ": " + help.out());
        }
    }
}
