package dev.jlens.cli;

import dev.jlens.analysis.PromptSet;
import dev.jlens.toy.ToyDefault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** contrast / crossmap / report on activations captured earlier with `jlens capture` (bring your own activations). */
class CliAnalysisTest {
    @TempDir Path dir;

    @Test
    void capturedFoldersGoThroughContrastCrossmapAndReport() throws Exception {
        ToyDefault.Files toy = ToyDefault.ensure(true, null);
        Path t = dir.resolve("t.jsonl"), c = dir.resolve("c.jsonl");
        StringBuilder tb = new StringBuilder(), cb = new StringBuilder();
        var fr = PromptSet.builtin("france").prompts();
        var ne = PromptSet.builtin("neutral").prompts();
        for (int i = 0; i < 200; i += 5) tb.append("{\"text\": \"").append(fr.get(i).text().replace("\"", "\\\"")).append("\", \"facet\": \"").append(fr.get(i).facet()).append("\"}\n");
        for (int i = 0; i < 200; i += 5) cb.append("{\"text\": \"").append(ne.get(i).text().replace("\"", "\\\"")).append("\", \"facet\": \"neutral\"}\n");
        Files.writeString(t, tb);
        Files.writeString(c, cb);
        for (String[] s : new String[][] {{"tcap", t.toString()}, {"ccap", c.toString()}}) {
            var r = CliCaptureTest.run("capture", "--model", toy.model().toString(), "--prompts", s[1], "--out", dir.resolve(s[0]).toString(), "--threads", "2");
            assertEquals(0, r.code(), r.err());
        }
        var contrast = CliCaptureTest.run("contrast", "--target-captured", dir.resolve("tcap").toString(), "--control-captured", dir.resolve("ccap").toString(),
                "--sae", toy.coarseId(), "--out", dir.resolve("contrast").toString(), "--cache", dir.resolve("cache").toString(), "--permutations", "200");
        assertEquals(0, contrast.code(), contrast.err());
        assertTrue(contrast.out().contains("#337"), "the planted France feature is listed: " + contrast.out());
        var map = CliCaptureTest.run("crossmap", "--target-captured", dir.resolve("tcap").toString(), "--control-captured", dir.resolve("ccap").toString(),
                "--target-prompts", t.toString(), "--control-prompts", c.toString(), "--coarse-sae", toy.coarseId(), "--fine-sae", toy.fineId(),
                "--out", dir.resolve("map").toString(), "--cache", dir.resolve("cache").toString(), "--permutations", "200");
        assertEquals(0, map.code(), map.err());
        assertTrue(map.out().startsWith("GO:"), map.out());
        Path html = dir.resolve("map/report.html");
        Files.delete(html);
        var rep = CliCaptureTest.run("report", "--results", dir.resolve("map/results.json").toString());
        assertEquals(0, rep.code(), rep.err());
        assertTrue(Files.size(html) > 100_000, "report rewritten from results.json");
        var bad = CliCaptureTest.run("crossmap", "--target-captured", dir.resolve("nope").toString(), "--control-captured", dir.resolve("ccap").toString(),
                "--coarse-sae", toy.coarseId(), "--fine-sae", toy.fineId(), "--out", dir.resolve("x").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("nope"), bad.err());
    }
}
