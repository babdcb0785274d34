package dev.jlens.formats;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.util.Json;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs a Python script that reads jlens files with numpy/scipy and prints one JSON line last; the tests that check
 * files against scipy's own readers share it. Where python3, numpy or scipy is missing the calling test is skipped
 * with that reason (numpy and scipy are dev tools, never a dependency): the Java reader tests cover the layout then.
 */
public final class PythonScipy {
    private PythonScipy() {}

    /** The script's last output line, parsed; the script exited 0 (else the test fails with its output). */
    public static JsonNode run(String script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", script));
        cmd.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("skipped: python3 is not installed (" + e.getMessage() + "); the Java reader test covers the layout");
            return null;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python3 did not finish: " + out);
        Assumptions.assumeFalse(p.exitValue() != 0 && out.contains("No module named"),
                () -> "skipped: python3 lacks numpy or scipy (" + out.strip() + "); the Java reader test covers the layout");
        assertEquals(0, p.exitValue(), out);
        return Json.MAPPER.readTree(out.lines().reduce((a, b) -> b).orElseThrow());
    }
}
