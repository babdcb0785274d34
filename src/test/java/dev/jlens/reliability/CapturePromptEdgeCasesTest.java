package dev.jlens.reliability;

import dev.jlens.cli.CliRunner;

import dev.jlens.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** `jlens capture` on awkward prompt files and options: exit code 2 with a message naming file/line/value, and no output files. */
class CapturePromptEdgeCasesTest {
    @TempDir Path tmp;

    static CliRunner.Run run(String... args) {
        return CliRunner.run(args);
    }

    CliRunner.Run capture(Path prompts, Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("capture", "--model", Fixtures.tinyModel().toString(), "--prompts", prompts.toString(),
                "--out", out.toString(), "--threads", "2"));
        a.addAll(List.of(extra));
        if (!a.contains("--ctx")) a.addAll(List.of("--ctx", "256", "--ubatch", "64"));
        return run(a.toArray(String[]::new));
    }

    void assertRejected(CliRunner.Run r, Path out, String... fragments) throws Exception {
        assertEquals(2, r.code(), r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "'" + f + "' missing from: " + r.err());
        assertEquals(List.of(), Fixtures.filesUnder(out), "no output files");
    }

    @Test
    void emptyFileIsRejectedNamingTheFile() throws Exception {
        Path p = tmp.resolve("empty.txt");
        Files.writeString(p, "");
        assertRejected(capture(p, tmp.resolve("o")), tmp.resolve("o"), "empty.txt", "file is empty");
    }

    @Test
    void blankLinesOnlyAreRejected() throws Exception {
        Path p = tmp.resolve("blank.txt");
        Files.writeString(p, "\n   \n\t\n\n");
        assertRejected(capture(p, tmp.resolve("o")), tmp.resolve("o"), "blank.txt", "only blank lines");
    }

    @Test
    void invalidUtf8IsRejectedWithLineAndByte() throws Exception {
        Path p = tmp.resolve("latin1.txt");
        byte[] good = "The capital of France is Paris.\n".getBytes(StandardCharsets.UTF_8);
        byte[] bad = {'C', 'a', 'f', (byte) 0xE9, '\n'};
        byte[] all = new byte[good.length + bad.length];
        System.arraycopy(good, 0, all, 0, good.length);
        System.arraycopy(bad, 0, all, good.length, bad.length);
        Files.write(p, all);
        assertRejected(capture(p, tmp.resolve("o")), tmp.resolve("o"), "latin1.txt", "line 2", "invalid UTF-8", "0xE9");
    }

    @Test
    void aPromptLongerThanTheContextIsRejectedNotTruncated() throws Exception {
        Path p = tmp.resolve("long.txt");
        Files.writeString(p, "short prompt\n" + "the capital of France is Paris ".repeat(20) + "\n");
        CliRunner.Run r = capture(p, tmp.resolve("o"), "--ctx", "32", "--ubatch", "32");
        assertRejected(r, tmp.resolve("o"), "prompt 1 has", "more than the context size 32", "raise the context size");
    }

    @Test
    void morePromptsThanSeqsAreSplitIntoBatches() throws Exception {
        Path p = tmp.resolve("many.txt");
        List<String> prompts = List.of("the capital of France", "Paris is a city", "hello world", "a cat sat", "bread and cheese");
        Files.writeString(p, String.join("\n", prompts) + "\n");
        Path one = tmp.resolve("seqs2"), all = tmp.resolve("seqs64");
        assertEquals(0, capture(p, one, "--seqs", "2").code());
        assertEquals(0, capture(p, all, "--seqs", "64").code());
        List<String> a = Files.readAllLines(one.resolve("tokens.csv")), b = Files.readAllLines(all.resolve("tokens.csv"));
        assertEquals(b, a, "3 batches of <= 2 prompts give the same rows in the same order as one batch");
        assertEquals("4", a.get(a.size() - 1).split(",")[0], "the last row belongs to the fifth prompt");
        assertEquals(Files.size(all.resolve("activations.npy")), Files.size(one.resolve("activations.npy")));
    }

    @Test
    void layerOutOfRangeIsRejectedNamingTheValue() throws Exception {
        Path p = tmp.resolve("ok.txt");
        Files.writeString(p, "hello world\n");
        assertRejected(capture(p, tmp.resolve("o"), "--layer", "14"), tmp.resolve("o"), "layer 14 is out of range", "0..13");
        assertRejected(capture(p, tmp.resolve("o2"), "--layer", "-1"), tmp.resolve("o2"), "layer -1");
    }
}
