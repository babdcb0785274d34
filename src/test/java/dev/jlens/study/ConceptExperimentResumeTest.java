package dev.jlens.study;

import dev.jlens.api.Experiment;
import dev.jlens.api.EncoderKind;
import dev.jlens.toy.ToyModelJob;
import dev.jlens.util.Json;
import dev.jlens.util.Progress;

import dev.jlens.analysis.PromptSet;
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

import static org.junit.jupiter.api.Assertions.*;

/** The experiment pipeline on real files and the real llama.cpp: caching, resuming, deterministic outputs. */
class ConceptExperimentResumeTest {
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
        writeSubset(PromptSet.builtin("france"), target, 24);
        writeSubset(PromptSet.builtin("neutral"), control, 24);
    }

    static void writeSubset(PromptSet s, Path file, int n) throws IOException {
        StringBuilder b = new StringBuilder();
        for (PromptSet.Prompt p : s.prompts().subList(0, n)) {
            b.append(Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT).writeValueAsString(java.util.Map.of("text", p.text(), "facet", p.facet()))).append('\n');
        }
        Files.writeString(file, b.toString());
    }

    static ExperimentConfig config(Path out, Path cache) {
        return new ExperimentConfig(model, coarse.toString(), fine.toString(), out, Experiment.Settings.builder().targetPrompts(target)
                .controlPrompts(control).anchors(5).fineCandidates(30).minActivation(0.0).permutations(200).seed(99)
                .encoder(EncoderKind.VECTOR).contextTokens(256).promptsPerBatch(8).threads(2).cacheDir(cache).build());
    }

    @Test
    void rerunReusesTheCachesAndInterruptedRunsFinishByteIdentical() throws IOException {
        Path cache = dir.resolve("cache");
        var first = ConceptExperiment.run(config(dir.resolve("run1"), cache), Progress.NONE);
        assertTrue(first.shardsComputed() >= 6, "48 prompts in batches of 8");
        byte[] results = Files.readAllBytes(dir.resolve("run1/results.json"));
        String text = new String(results);
        assertFalse(text.contains("NaN") || text.contains("Infinity"), "no NaN in results.json");

        // the same config again: nothing recomputed, same bytes
        var second = ConceptExperiment.run(config(dir.resolve("run2"), cache), Progress.NONE);
        assertEquals(0, second.shardsComputed());
        assertArrayEquals(results, Files.readAllBytes(dir.resolve("run2/results.json")));

        // an interrupted run: the last capture shard never got its metadata, one aggregate file is torn
        Path acts;
        try (Stream<Path> s = Files.list(cache)) {
            acts = s.filter(p -> p.getFileName().toString().startsWith("acts-")).findFirst().orElseThrow();
        }
        List<Path> metas;
        try (Stream<Path> s = Files.list(acts)) {
            metas = s.filter(p -> p.getFileName().toString().matches("shard-\\d+\\.json")).sorted().toList();
        }
        Files.delete(metas.get(metas.size() - 1));
        Path agg;
        try (Stream<Path> s = Files.list(acts)) {
            agg = s.filter(p -> p.getFileName().toString().startsWith("agg-")).findFirst().orElseThrow();
        }
        Path bin = agg.resolve("agg-00001.bin");
        byte[] torn = Files.readAllBytes(bin);
        Files.write(bin, java.util.Arrays.copyOf(torn, torn.length / 2));

        var third = ConceptExperiment.run(config(dir.resolve("run3"), cache), Progress.NONE);
        assertEquals(1, third.shardsComputed(), "only the missing shard is captured again");
        assertArrayEquals(results, Files.readAllBytes(dir.resolve("run3/results.json")));
        for (String f : List.of("features_coarse.csv", "features_fine.csv", "pairs.csv")) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("run1").resolve(f)), Files.readAllBytes(dir.resolve("run3").resolve(f)), f);
        }
    }
}
