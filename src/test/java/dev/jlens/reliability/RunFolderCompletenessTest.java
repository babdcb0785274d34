package dev.jlens.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.formats.GgmlType;
import dev.jlens.isolated.JavaProcess;
import dev.jlens.sae.ToySae;
import dev.jlens.study.ConceptExperiment;
import dev.jlens.toy.ToyModelJob;
import dev.jlens.util.Json;
import dev.jlens.util.Progress;
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
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 17 points 6-7 through a real `jlens france` child JVM on the tiny toy: a run killed (SIGKILL) while it writes
 * its outputs leaves the run folder without a results.json (its outputs absent) and a staging folder that the next run
 * removes; two runs into one --out: the second exits 2 naming the folder, the first finishes with one consistent set.
 */
class RunFolderCompletenessTest {
    @TempDir static Path dir;
    static Path model, coarse, fine, target, control;
    static final List<String> OUTPUTS = List.of("results.json", "features_coarse.csv", "features_fine.csv", "pairs.csv", "facet_split.csv",
            "report.html", "heatmap.png", "scatter.png");

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
    }

    static Path subset(String set, int n) throws IOException {
        Path f = dir.resolve(set + ".jsonl");
        StringBuilder b = new StringBuilder();
        var w = Json.MAPPER.writer().without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT);
        for (dev.jlens.analysis.PromptSet.Prompt p : dev.jlens.analysis.PromptSet.builtin(set).prompts().subList(0, n)) {
            var m = new java.util.LinkedHashMap<String, String>();
            m.put("text", p.text());
            if (p.facet() != null) m.put("facet", p.facet());
            b.append(w.writeValueAsString(m)).append('\n');
        }
        Files.writeString(f, b.toString());
        return f;
    }

    static ProcessBuilder france(Path out, Path cache, String permutations, String seed) {
        return JavaProcess.builder("dev.jlens.cli.Main", List.of("france", "--model", model.toString(), "--coarse-sae", coarse.toString(),
                "--fine-sae", fine.toString(), "--target", target.toString(), "--control", control.toString(), "--out", out.toString(),
                "--cache", cache.toString(), "--encoder", "vector", "--ctx", "256", "--seqs", "4", "--threads", "2", "--anchors", "5",
                "--fine-candidates", "30", "--min-activation", "0", "--permutations", permutations, "--seed", seed));
    }

    /**
     * Watches {@code out} of the running {@code p} and SIGKILLs it as soon as a staging folder appears (outputs being
     * written: no finally block runs); waits for it to end. False when the run ended before a staging folder was seen.
     */
    static boolean killWhileStaging(Process p, Path out) throws IOException, InterruptedException {
        boolean killed = false;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
        while (p.isAlive() && System.nanoTime() < end) {
            if (Files.isDirectory(out) && leftovers(out).stream().anyMatch(n -> n.startsWith(".staging-"))) {
                p.destroyForcibly();
                killed = true;
                break;
            }
            Thread.sleep(1);
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return killed;
    }

    static List<String> leftovers(Path out) throws IOException {
        try (Stream<Path> s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".") && !n.equals(RunFolder.LOCK_FILE)).sorted().toList();
        }
    }

    /** Every output present and whole (results.json parses, report.html ends). */
    static JsonNode assertComplete(Path out) throws IOException {
        for (String f : OUTPUTS) assertTrue(Files.isRegularFile(out.resolve(f)), out + " lacks " + f);
        JsonNode r = Json.MAPPER.readTree(out.resolve("results.json").toFile());
        assertTrue(Files.readString(out.resolve("report.html")).endsWith("</html>\n"), "report.html written to its end");
        return r;
    }

    @Test
    void aRunKilledWhileWritingItsOutputsLeavesThemAbsentAndTheNextRunCleansUpAndSucceeds() throws Exception {
        Path cache = dir.resolve("cache-kill");
        int killedMidWrite = 0;
        for (int attempt = 0; attempt < 4 && killedMidWrite == 0; attempt++) {
            Path out = dir.resolve("kill-" + attempt);
            Process p = france(out, cache, "200", "99").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            boolean killed = killWhileStaging(p, out);
            if (!killed) { // the write was too quick to catch: the run must then be complete
                assertEquals(0, p.exitValue());
                assertComplete(out);
                assertEquals(List.of(), leftovers(out));
                continue;
            }
            assertEquals(137, p.exitValue());
            if (Files.exists(out.resolve("results.json"))) { // killed after the last rename
                assertComplete(out);
                continue;
            }
            killedMidWrite++;
            assertTrue(leftovers(out).stream().anyMatch(n -> n.startsWith(".staging-")), "the killed run's staging folder: " + leftovers(out));
            for (String f : OUTPUTS) {
                if (!f.equals("results.json")) assertFalse(Files.exists(out.resolve(f)) && Files.exists(out.resolve("results.json")), f);
            }
            // the next run into the same folder removes the leftovers and writes one complete set
            Process again = france(out, cache, "200", "99").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.PIPE).start();
            String err = new String(again.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(again.waitFor(240, TimeUnit.SECONDS));
            assertEquals(0, again.exitValue(), err);
            assertComplete(out);
            assertEquals(List.of(), leftovers(out), "no staging folder, temp file or lock file after a finished run");
            assertTrue(Files.isRegularFile(out.resolve("run.log")));
        }
        assertEquals(1, killedMidWrite, "in 4 attempts no kill landed while the outputs were staged");
    }

    @Test
    void aSecondRunIntoTheSameFolderExitsTwoNamingItAndTheFirstFinishesConsistently() throws Exception {
        Path out = dir.resolve("shared"), cache = dir.resolve("cache-shared");
        // the first run is slow (many permutations), so it still holds the folder when the second starts
        Process first = france(out, cache, "30000", "1").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(out.resolve(RunFolder.LOCK_FILE)) && first.isAlive() && System.nanoTime() < end) Thread.sleep(10);
        assertTrue(Files.exists(out.resolve(RunFolder.LOCK_FILE)), "the first run locked its folder");
        Process second = france(out, cache, "200", "2").redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.PIPE).start();
        String err = new String(second.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(second.waitFor(120, TimeUnit.SECONDS));
        assertTrue(first.isAlive(), "the first run was still running when the second ended (else this proves nothing)");
        assertEquals(2, second.exitValue(), err);
        assertTrue(err.contains(out.toString()) && err.contains("another jlens run"), err);
        assertTrue(first.waitFor(300, TimeUnit.SECONDS));
        assertEquals(0, first.exitValue());
        JsonNode r = assertComplete(out);
        assertEquals(1, r.path("config").path("seed").asLong(-1), "results.json is the first run's");
        assertEquals(30000, r.path("config").path("permutations").asInt(-1));
        assertEquals(List.of(), leftovers(out));
        String log = Files.readString(out.resolve("run.log"));
        assertTrue(log.contains("another jlens run"), "the refused run's failure is in run.log too: " + log);
    }

    @Test
    void aBadNeuronpediaIdIsRejectedBeforeAnyOutputIsWritten() throws Exception {
        Path sae = dir.resolve("badnp/layer_12/width_128");
        ToySae.builder(64, 128, 1).targetL0(12).neuronpediaId("../../evil").writeSaeLensDir(sae, dev.jlens.kernels.WeightFormat.F32);
        assertTrue(Files.readString(sae.resolve("cfg.json")).contains("../../evil"));
        Path out = dir.resolve("badnp-run");
        var e = assertThrows(IllegalArgumentException.class, () -> ConceptExperiment.run(
                ExperimentChildMain.config(model, sae, fine, target, control, out, dir.resolve("cache-badnp")), Progress.NONE));
        assertTrue(e.getMessage().contains("neuronpedia_id"), e.getMessage());
        List<String> left = new ArrayList<>();
        if (Files.exists(out)) try (Stream<Path> s = Files.list(out)) { s.forEach(p -> left.add(p.getFileName().toString())); }
        assertEquals(List.of(), left, "no results.json, CSVs or staging folder");
    }

    @Test
    void aCaptureIntoAFolderAnotherProcessHoldsExitsTwoAndTheCompletedCaptureHasItsFilesOnly() throws Exception {
        Path out = dir.resolve("cap");
        Process holder = JavaProcess.builder(dev.jlens.util.LockHolderMain.class.getName(), List.of(out.toString())).start();
        List<String> capture = List.of("capture", "--model", model.toString(), "--prompts", target.toString(), "--out", out.toString(),
                "--ctx", "256", "--threads", "2");
        try {
            assertEquals("LOCKED", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine());
            Process second = JavaProcess.builder("dev.jlens.cli.Main", capture).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.PIPE).start();
            String err = new String(second.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(second.waitFor(120, TimeUnit.SECONDS));
            assertEquals(2, second.exitValue(), err);
            assertTrue(err.contains(out.toString()) && err.contains("another jlens run"), err);
            assertFalse(Files.exists(out.resolve("capture.json")));
        } finally {
            holder.destroyForcibly();
            holder.waitFor();
        }
        Process p = JavaProcess.builder("dev.jlens.cli.Main", capture).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.PIPE).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err);
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of(RunFolder.LOCK_FILE, "activations.npy", "capture.json", "run.log", "tokens.csv"),
                    s.map(f -> f.getFileName().toString()).sorted().toList(), "no staging folder left");
        }
        assertEquals(12, Json.MAPPER.readTree(out.resolve("capture.json").toFile()).path("prompts").asInt(-1));
    }
}
