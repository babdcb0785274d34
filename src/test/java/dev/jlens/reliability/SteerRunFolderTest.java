package dev.jlens.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.api.Experiment;
import dev.jlens.api.Toys;
import dev.jlens.isolated.JavaProcess;
import dev.jlens.util.Json;
import dev.jlens.util.RunFolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 17 for `jlens steer` (as {@link RunFolderCompletenessTest} for `jlens france`), through real child JVMs on the
 * planted toy: steering.json, generations.csv and the report are staged and moved in with steering.json last, so a run
 * killed (SIGKILL) while it writes them leaves no steering.json and a staging folder that the next run removes; a
 * second steer into the same --out exits 2 naming the folder while the first finishes with its own complete outputs.
 */
class SteerRunFolderTest {
    @TempDir static Path dir;
    static Path results;

    @BeforeAll
    static void results() throws IOException {
        Toys.PlantedFrance toy = Toys.plantedFrance(true, "classic", null); // its matches name facets the lexicon knows
        Path target = dir.resolve("target.jsonl"), control = dir.resolve("control.jsonl");
        Files.write(target, everyFifth("france.jsonl"));
        Files.write(control, everyFifth("neutral.jsonl"));
        Experiment.Settings s = Experiment.Settings.builder().targetPrompts(target).controlPrompts(control).permutations(100).threads(1)
                .cacheDir(dir.resolve("cache")).build();
        results = Experiment.run(toy.model(), toy.coarseSae(), toy.fineSae(), dir.resolve("run"), s, null).resultsJson();
    }

    private static List<String> everyFifth(String shipped) throws IOException {
        try (var in = SteerRunFolderTest.class.getResourceAsStream("/dev/jlens/prompts/" + shipped)) {
            List<String> all = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            List<String> out = new ArrayList<>();
            for (int i = 0; i < all.size(); i += 5) out.add(all.get(i));
            return out;
        }
    }

    static ProcessBuilder steer(Path out, String prompts, String seeds, String strengths, String maxTokens) {
        return JavaProcess.builder("dev.jlens.cli.Main", List.of("steer", "--results", results.toString(), "--out", out.toString(),
                "--neutral-prompts", prompts, "--seeds", seeds, "--strengths", strengths, "--max-tokens", maxTokens, "--bootstrap", "20",
                "--threads", "1")); // one thread: llama.cpp's spinning thread pool crawls on an oversubscribed machine
    }

    /** steering.json parses, generations.csv has a line per generation, report.html is written to its end. */
    static JsonNode assertComplete(Path out, int generations) throws IOException {
        JsonNode r = Json.MAPPER.readTree(out.resolve("steering.json").toFile());
        assertEquals(1 + generations, Files.readAllLines(out.resolve("generations.csv")).size(), "header + one line per generation");
        assertTrue(Files.readString(out.resolve("report.html")).endsWith("</html>\n"), "report.html written to its end");
        return r;
    }

    @Test
    void aSteerKilledWhileWritingItsOutputsLeavesNoSteeringJsonAndTheNextRunCleansUpAndSucceeds() throws Exception {
        int killedMidWrite = 0;
        for (int attempt = 0; attempt < 4 && killedMidWrite == 0; attempt++) {
            Path out = dir.resolve("kill-" + attempt);
            Process p = steer(out, "2", "1", "0,2", "4").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            boolean killed = RunFolderCompletenessTest.killWhileStaging(p, out);
            // 2 prompts x 1 seed x (the baseline + 5 conditions at strength 2)
            if (!killed) { // the write was too quick to catch: the run must then be complete
                assertEquals(0, p.exitValue());
                assertComplete(out, 12);
                assertEquals(List.of(), RunFolderCompletenessTest.leftovers(out));
                continue;
            }
            assertEquals(137, p.exitValue());
            if (Files.exists(out.resolve("steering.json"))) { // killed after the last rename
                assertComplete(out, 12);
                continue;
            }
            killedMidWrite++;
            assertTrue(RunFolderCompletenessTest.leftovers(out).stream().anyMatch(n -> n.startsWith(".staging-")), "the killed run's staging folder: " + RunFolderCompletenessTest.leftovers(out));
            // the next run into the same folder removes the leftovers and writes one complete set
            Process again = steer(out, "2", "1", "0,2", "4").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.PIPE).start();
            String err = new String(again.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(again.waitFor(240, TimeUnit.SECONDS));
            assertEquals(0, again.exitValue(), err);
            assertComplete(out, 12);
            assertEquals(List.of(), RunFolderCompletenessTest.leftovers(out), "no staging folder or temp file after a finished run");
        }
        assertEquals(1, killedMidWrite, "in 4 attempts no kill landed while the outputs were staged");
    }

    @Test
    void aSecondSteerIntoTheSameFolderExitsTwoNamingItAndTheFirstFinishesConsistently() throws Exception {
        Path out = dir.resolve("shared");
        // the first run is the longer one (6 prompts x 3 seeds x (1 + 2 strengths x 5 conditions) = 198 generations)
        Process first = steer(out, "6", "1,2,3", "0,2,4", "12").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(out.resolve(RunFolder.LOCK_FILE)) && first.isAlive() && System.nanoTime() < end) Thread.sleep(10);
        assertTrue(Files.exists(out.resolve(RunFolder.LOCK_FILE)), "the first run locked its folder");
        Process second = steer(out, "1", "1", "0,2", "4").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.PIPE).start();
        String err = new String(second.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(second.waitFor(120, TimeUnit.SECONDS));
        assertTrue(first.isAlive(), "the first run was still running when the second ended (else this proves nothing)");
        assertEquals(2, second.exitValue(), err);
        assertTrue(err.contains(out.toString()) && err.contains("another jlens run"), err);
        assertTrue(first.waitFor(600, TimeUnit.SECONDS));
        assertEquals(0, first.exitValue());
        JsonNode r = assertComplete(out, 198);
        assertEquals(6, r.path("config").path("prompts").asInt(-1), "steering.json is the first run's");
        assertEquals(List.of(), RunFolderCompletenessTest.leftovers(out));
    }
}
