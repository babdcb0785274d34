package dev.jlens.cli;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The terminal shows the progress bar and the result; the log records (llama.cpp's warnings, jlens's INFO lines) go to
 * run.log in the output folder as one line each, and to the terminal only with --verbose. Real capture, real llama.cpp.
 */
class CliQuietConsoleTest {
    @TempDir static Path dir;
    static Path model, prompts;
    /** java.util.logging's default two-line record starts with a date such as "Dec 05, 2026 12:01:12 PM". */
    static final Pattern JUL_DATE = Pattern.compile("(?m)^[A-Z][a-z]{2} \\d{2}, \\d{4} ");
    static final Pattern ONE_LINE = Pattern.compile("^\\d{2}:\\d{2}:\\d{2}\\.\\d{3} (SEVERE|WARNING|INFO|CONFIG|FINE|FINER|FINEST) +[\\w.$-]+: .*");

    @BeforeAll
    static void model() throws Exception {
        model = dir.resolve("tiny.gguf");
        assertEquals(0, CliRunner.run("toy-model", "--kind", "tiny", "--out", model.toString()).code());
        prompts = dir.resolve("p.txt");
        Files.writeString(prompts, "The capital of France is Paris.\nBread and cheese\n");
    }

    static CliRunner.Run capture(Path out, String... extra) {
        List<String> a = new java.util.ArrayList<>(List.of("capture", "--model", model.toString(), "--prompts", prompts.toString(),
                "--out", out.toString(), "--threads", "2", "--ctx", "2048"));
        if (!List.of(extra).contains("--layer")) a.addAll(List.of("--layer", "3"));
        a.addAll(List.of(extra));
        return CliRunner.run(a.toArray(String[]::new));
    }

    @Test
    void theTerminalGetsProgressAndResultAndRunLogGetsTheRecords() throws Exception {
        Path out = dir.resolve("quiet");
        CliRunner.Run r = capture(out);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("captured layer 3"), r.out());
        // stderr: only the progress bar's lines (redrawn with \r)
        for (String line : r.err().split("[\r\n]+")) {
            if (line.isBlank()) continue;
            assertTrue(line.startsWith("capture    ["), "only progress on the terminal, got: " + line + "\n--- stderr:\n" + r.err());
        }
        assertTrue(r.err().contains("tokens"), "the bar names its unit: " + r.err());
        String log = Files.readString(out.resolve("run.log"));
        String[] lines = log.split("\n");
        assertTrue(lines[0].startsWith("== ") && lines[0].contains("jlens capture --model"), lines[0]);
        assertTrue(lines.length >= 2, "llama.cpp's warnings are in run.log: " + log);
        for (int i = 1; i < lines.length; i++) {
            assertTrue(ONE_LINE.matcher(lines[i]).matches() || lines[i].startsWith("("), "one line per record: " + lines[i]);
        }
        assertTrue(log.contains(" llama.cpp: "), log);
        assertFalse(JUL_DATE.matcher(log).find(), log);
        // a second run into the same folder appends
        assertEquals(0, capture(out).code());
        assertEquals(2, Pattern.compile("(?m)^== ").matcher(Files.readString(out.resolve("run.log"))).results().count());
    }

    @Test
    void verboseShowsTheRecordsOnTheTerminalAsOneLineEach() throws Exception {
        Path out = dir.resolve("verbose");
        CliRunner.Run r = capture(out, "--verbose");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains(" llama.cpp: "), r.err());
        assertFalse(JUL_DATE.matcher(r.err()).find(), r.err());
        String log = Files.readString(out.resolve("run.log"));
        for (String line : log.split("\n")) {
            if (line.contains(" llama.cpp: ")) assertTrue(r.err().contains(line.substring(13)), "terminal shows " + line);
        }
    }

    @Test
    void jlensOwnWarningsStillReachTheTerminalAsOneLine() throws Exception {
        Path twice = dir.resolve("twice.txt");
        Files.writeString(twice, "Bread and cheese\nBread and cheese\n");
        Path out = dir.resolve("warned");
        CliRunner.Run r = CliRunner.run("capture", "--model", model.toString(), "--prompts", twice.toString(), "--out", out.toString(),
                "--layer", "3", "--threads", "2", "--ctx", "2048");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("jlens: warning: " + twice + ": line 2 repeats the prompt of line 1"), r.err());
        assertFalse(r.err().contains("llama.cpp") || r.err().contains("n_ctx"), "llama.cpp's warnings stay in run.log: " + r.err());
        assertTrue(Files.readString(out.resolve("run.log")).contains("line 2 repeats the prompt of line 1"));
    }

    @Test
    void aFailedCommandLeavesNoRunLogBehind() throws Exception {
        Path out = dir.resolve("failed");
        CliRunner.Run r = capture(out, "--layer", "20");
        assertEquals(2, r.code(), r.err());
        assertFalse(Files.exists(out), "no output folder");
    }
}
