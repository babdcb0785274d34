package dev.jlens.slice;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.cli.CliRunner;
import dev.jlens.formats.GgmlType;
import dev.jlens.util.Json;
import dev.jlens.toy.ToyDefault;
import dev.jlens.toy.ToyModelJob;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code jlens slice} through the real command line: its output and its bad-input exits (2, naming the value), and a
 * slice in the France experiment (accepted, same verdict as the full model) and in steering (refused, exit 2).
 */
class SliceCliTest {
    @TempDir static Path dir;
    static Path model;

    @BeforeAll
    static void files() throws IOException {
        model = dir.resolve("tiny.gguf");
        ToyModelJob.write(model, ToyModelJob.Kind.TINY, GgmlType.Q8_0, 5);
    }

    @Test
    void sliceWritesTheFileAndReportsItsSize() throws IOException {
        Path out = dir.resolve("out/slice.gguf");
        CliRunner.Run r = CliRunner.run("slice", "--model", model.toString(), "--through-layer", "3", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(out));
        assertTrue(r.out().contains("5 of 14"), r.out());
        assertTrue(r.out().contains(String.format("%,d", Files.size(out))), r.out());
        CliRunner.Run info = CliRunner.run("info", out.toString());
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().matches("(?s).*layers\\s+5\\R.*"), info.out());
    }

    @Test
    void badLayersAndOutputsExitTwoNamingTheValue() throws IOException {
        Path out = dir.resolve("bad.gguf");
        for (String layer : new String[] {"13", "14", "-1"}) {
            CliRunner.Run r = CliRunner.run("slice", "--model", model.toString(), "--through-layer", layer, "--out", out.toString());
            assertEquals(2, r.code(), layer + ": " + r.err());
            assertTrue(r.err().contains("--through-layer " + layer) && r.err().contains("0..12"), r.err());
        }
        CliRunner.Run same = CliRunner.run("slice", "--model", model.toString(), "--through-layer", "3", "--out", model.toString());
        assertEquals(2, same.code(), same.err());
        assertTrue(same.err().contains("is the input model"), same.err());
        Path missing = dir.resolve("missing.gguf");
        CliRunner.Run none = CliRunner.run("slice", "--model", missing.toString(), "--through-layer", "3", "--out", out.toString());
        assertEquals(2, none.code(), none.err());
        assertTrue(none.err().contains(missing.toString()), none.err());
        Path notGguf = Files.writeString(dir.resolve("not.gguf"), "hello");
        CliRunner.Run bad = CliRunner.run("slice", "--model", notGguf.toString(), "--through-layer", "3", "--out", out.toString());
        assertEquals(2, bad.code(), bad.err());
        assertFalse(Files.exists(out), "nothing written on bad input");
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary file left behind");
        }
    }

    /** The planted toy taps layer 12 of 14 blocks: its slice through 12 keeps all 14 blocks but carries the marker. */
    @Test
    void franceRunsOnASliceWithTheFullModelsVerdictAndSteeringRefusesIt() throws IOException {
        ToyDefault.Files toy = ToyDefault.ensure(true, null);
        Path slice = dir.resolve("france-slice.gguf");
        assertEquals(0, CliRunner.run("slice", "--model", toy.model().toString(), "--through-layer", "12", "--out", slice.toString()).code());
        JsonNode full = france(toy, toy.model(), dir.resolve("france-full"));
        JsonNode sliced = france(toy, slice, dir.resolve("france-slice"));
        assertEquals(full.at("/verdict"), sliced.at("/verdict"), "the slice's verdict is the full model's");
        assertEquals("GO", sliced.at("/verdict/decision").asText(), sliced.at("/verdict").toString());

        CliRunner.Run steer = CliRunner.run("steer", "--results", dir.resolve("france-slice/results.json").toString(), "--prompts", "1",
                "--seeds", "1", "--strengths", "0,1", "--max-tokens", "2", "--bootstrap", "10", "--threads", "2", "--out", dir.resolve("steer").toString());
        assertEquals(2, steer.code(), steer.out() + steer.err());
        assertTrue(steer.err().contains("capture-only slice") && steer.err().contains("steering needs the full model"), steer.err());
        assertFalse(Files.exists(dir.resolve("steer/steering.json")));
    }

    static JsonNode france(ToyDefault.Files toy, Path model, Path out) throws IOException {
        CliRunner.Run r = CliRunner.run("france", "--model", model.toString(), "--coarse-sae", toy.coarseId(), "--fine-sae", toy.fineId(),
                "--threads", "2", "--permutations", "200", "--cache", dir.resolve("cache").toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        return Json.MAPPER.readTree(out.resolve("results.json").toFile());
    }
}
