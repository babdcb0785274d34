package dev.jlens.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad input named on the command line is refused before any work: exit 2, a message naming the option or file (and
 * line, key or field), and no output folder or file created. Through the real commands on real files.
 */
class CliInputChecksTest {
    @TempDir static Path dir;
    static Path model, prompts, fifo;

    @BeforeAll
    static void files() throws Exception {
        model = dir.resolve("tiny.gguf");
        assertEquals(0, CliRunner.run("toy-model", "--kind", "tiny", "--out", model.toString()).code());
        prompts = dir.resolve("p.txt");
        Files.writeString(prompts, "The capital of France is Paris.\n");
        fifo = dir.resolve("pipe.jsonl");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "mkfifo");
    }

    static void rejected(CliRunner.Run r, Path out, String... fragments) throws Exception {
        assertEquals(2, r.code(), r.out() + r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "'" + f + "' missing from: " + r.err());
        assertFalse(r.err().contains("jlens: error:"), "bad input, not a failed run: " + r.err());
        if (out != null) assertFalse(Files.exists(out), out + " not created");
    }

    static CliRunner.Run capture(Path prompts, Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("capture", "--model", model.toString(), "--prompts", prompts.toString(),
                "--out", out.toString(), "--threads", "2"));
        a.addAll(List.of(extra));
        return CliRunner.run(a.toArray(String[]::new));
    }

    @Test
    void aLayerTheModelDoesNotHaveIsRefusedBeforeTheOutputFolderExists() throws Exception {
        Path out = dir.resolve("layer20");
        CliRunner.Run r = capture(prompts, out, "--layer", "20");
        rejected(r, out, "--layer 20 is out of range", model.toString(), "0..13");
        assertFalse(r.err().contains("WARNING") || r.err().contains("warning"), "no work started: " + r.err());
    }

    @Test
    void anOutputFolderThatIsAFileIsNamed() throws Exception {
        Path file = Files.writeString(dir.resolve("taken"), "keep me");
        List<List<String>> commands = List.of(
                List.of("capture", "--model", model.toString(), "--prompts", prompts.toString(), "--layer", "3"),
                List.of("france", "--permutations", "10"),
                List.of("encode", "--sae", "x", "--activations", "y.npy"),
                List.of("contrast", "--target-captured", "a", "--control-captured", "b", "--sae", "x"),
                List.of("report", "--results", writeResults().toString()),
                List.of("neuronpedia-export", "--atlas", dir.toString()),
                List.of("steer", "--neutral-prompts", "2"),
                List.of("crossmap", "--target-captured", "a", "--control-captured", "b", "--coarse-sae", "x", "--fine-sae", "y"),
                List.of("atlas", "--model", model.toString(), "--sae", "x", "--corpus", prompts.toString()));
        for (List<String> c : commands) {
            List<String> a = new java.util.ArrayList<>(c);
            a.addAll(List.of("--out", file.toString()));
            CliRunner.Run r = CliRunner.run(a.toArray(String[]::new));
            rejected(r, null, "--out " + file, "exists and is not a folder");
            assertEquals("keep me", Files.readString(file), c.get(0));
        }
        Path below = file.resolve("run");
        rejected(capture(prompts, below, "--layer", "3"), null, "--out " + below, file + " exists and is not a folder");
    }

    static Path writeResults() throws Exception {
        Path f = dir.resolve("some-results.json");
        if (!Files.exists(f)) Files.writeString(f, "{}");
        return f;
    }

    @Test
    void aFolderOrAFifoAsPromptsOrModelIsNamed() throws Exception {
        Path out = dir.resolve("kinds");
        Path folder = Files.createDirectories(dir.resolve("folder.txt"));
        rejected(capture(folder, out, "--layer", "3"), out, "--prompts " + folder, "is a folder, not a file");
        rejected(capture(fifo, out, "--layer", "3"), out, "--prompts " + fifo, "FIFO");
        CliRunner.Run m = CliRunner.run("capture", "--model", folder.toString(), "--prompts", prompts.toString(), "--out", out.toString());
        rejected(m, out, folder.toString(), "folder");
        CliRunner.Run f = CliRunner.run("capture", "--model", fifo.toString(), "--prompts", prompts.toString(), "--out", out.toString());
        rejected(f, out, fifo.toString(), "FIFO");
        CliRunner.Run fr = CliRunner.run("france", "--target", folder.toString(), "--out", out.toString());
        rejected(fr, out, "--target " + folder, "folder");
        CliRunner.Run info = CliRunner.run("info", fifo.toString()); // used to block reading the FIFO
        rejected(info, null, fifo.toString(), "FIFO");
    }

    @Test
    void hugePermutationCountsAreRefusedWithTheBound() throws Exception {
        Path out = dir.resolve("perm");
        long t0 = System.nanoTime();
        CliRunner.Run r = CliRunner.run("france", "--permutations", "2147483647", "--out", out.toString());
        rejected(r, out, "--permutations must be in [1, 100000]", "2147483647");
        assertTrue(System.nanoTime() - t0 < 20_000_000_000L, "refused while parsing, before capture and encode");
        rejected(CliRunner.run("france", "--permutations", "0", "--out", out.toString()), out, "got 0");
    }

    @Test
    void aLoneSurrogateInAJsonlPromptIsAnErrorNamingFileAndLine() throws Exception {
        Path bad = dir.resolve("surrogate.jsonl");
        Files.writeString(bad, "{\"text\": \"fine\"}\n{\"text\": \"a\\ud800b\"}\n");
        Path out = dir.resolve("sur");
        rejected(capture(bad, out, "--layer", "3"), out, bad.toString(), "line 2", "key 'text'", "\\ud800", "surrogate");
        // a proper pair (an emoji written as an escape) is fine
        Path ok = dir.resolve("pair.jsonl");
        Files.writeString(ok, "{\"text\": \"smile \\ud83d\\ude00\"}\n");
        CliRunner.Run r = capture(ok, dir.resolve("pair"), "--layer", "3", "--ctx", "256");
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void duplicateKeysInPromptsAndInCfgJsonAreErrorsNamingTheKey() throws Exception {
        Path bad = dir.resolve("dup.jsonl");
        Files.writeString(bad, "{\"text\": \"one\"}\n{\"text\": \"two\", \"facet\": \"a\", \"facet\": \"b\"}\n");
        Path out = dir.resolve("dup");
        rejected(capture(bad, out, "--layer", "3"), out, bad.toString(), "line 2", "key 'facet'", "duplicate key");

        Path sae = dir.resolve("saelens");
        assertEquals(0, CliRunner.run("toy-sae", "--d-in", "64", "--d-sae", "128", "--saelens", sae.toString()).code());
        Path cfg = sae.resolve("cfg.json");
        String text = Files.readString(cfg);
        Files.writeString(cfg, text.replaceFirst("\\{", "{\"d_sae\": 64,"));
        Path enc = dir.resolve("enc");
        CliRunner.Run r = CliRunner.run("encode", "--sae", sae.toString(), "--activations", dir.resolve("none.npy").toString(), "--out", enc.toString());
        rejected(r, enc, cfg.toString(), "key 'd_sae'", "duplicate key");
    }

    /** The format field of a results.json jlens writes, so the checks below reach the fields after it. */
    static final String FORMAT = "\"format\": \"jlens-results/2\", ";

    @Test
    void aMalformedResultsJsonForReportNamesFileAndField() throws Exception {
        Path out = dir.resolve("rep");
        Path unknown = Files.writeString(dir.resolve("unknown.json"), "{" + FORMAT + "\"x\": 1}");
        rejected(CliRunner.run("report", "--results", unknown.toString(), "--out", out.toString()), out, unknown.toString(), "field 'x'");
        Path truncated = Files.writeString(dir.resolve("truncated.json"), "{\"config\": {");
        CliRunner.Run t = CliRunner.run("report", "--results", truncated.toString(), "--out", out.toString());
        rejected(t, out, truncated.toString(), "line 1");
        assertFalse(t.err().contains("REDACTED"), t.err());
        Path wrongType = Files.writeString(dir.resolve("type.json"), "{" + FORMAT + "\"config\": 5}");
        rejected(CliRunner.run("report", "--results", wrongType.toString(), "--out", out.toString()), out, wrongType.toString(), "field 'config'");
        Path empty = Files.writeString(dir.resolve("empty.json"), "{" + FORMAT.replace(", ", "") + "}");
        CliRunner.Run e = CliRunner.run("report", "--results", empty.toString(), "--out", out.toString());
        rejected(e, out, empty.toString(), "missing or null");
        Path dup = Files.writeString(dir.resolve("dupres.json"), "{" + FORMAT + "\"verdict\": null, \"verdict\": null}");
        rejected(CliRunner.run("report", "--results", dup.toString(), "--out", out.toString()), out, dup.toString(), "key 'verdict'", "duplicate");
        // without the format field (a results.json of a jlens before snake_case keys): refused naming it
        Path old = Files.writeString(dir.resolve("old.json"), "{}");
        rejected(CliRunner.run("report", "--results", old.toString(), "--out", out.toString()), out, old.toString(), "format: missing");
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().equals("report.html")), "no report written beside the inputs");
        }
    }
}
