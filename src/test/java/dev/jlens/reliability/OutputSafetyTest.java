package dev.jlens.reliability;

import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.Csv;
import dev.jlens.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Outputs carry untrusted text and non-finite numbers safely, and never appear half-written. */
class OutputSafetyTest {
    @TempDir Path dir;

    record Stats(double selectivity, double effectSize, Double q, float value, double[] row, Map<String, Double> byFacet) {}

    @Test
    void jsonOutputsNeverContainNaNOrInfinity() throws IOException {
        Path f = dir.resolve("results.json");
        Json.write(f, new Stats(Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Float.NaN,
                new double[] {1.5, Double.NaN}, Map.of("cuisine", Double.POSITIVE_INFINITY)));
        String s = Files.readString(f);
        assertFalse(s.contains("NaN") || s.contains("Infinity"), s);
        var node = Json.MAPPER.readTree(s);
        assertTrue(node.get("selectivity").isNull());
        assertTrue(node.get("effectSize").isNull());
        assertTrue(node.get("q").isNull());
        assertTrue(node.get("value").isNull());
        assertEquals(1.5, node.get("row").get(0).asDouble());
        assertTrue(node.get("row").get(1).isNull());
        assertTrue(node.get("byFacet").get("cuisine").isNull());
    }

    @Test
    void csvCellsThatSpreadsheetsWouldRunAreNeutralisedAndNumbersStayNumbers() {
        assertEquals("'=HYPERLINK(\"\"x\"\")", Csv.cell("=HYPERLINK(\"x\")").replace("\"'", "'").replaceAll("^\"|\"$", ""));
        for (String bad : List.of("=1+1", "+cmd", "-cmd", "@SUM(A1)", "\tx", "\rx")) {
            String c = Csv.cell(bad);
            String unquoted = c.startsWith("\"") ? c.substring(1) : c;
            assertTrue(unquoted.startsWith("'"), bad + " -> " + c);
        }
        assertEquals("plain", Csv.cell("plain"));
        assertEquals("\"a,b\"", Csv.cell("a,b"));
        assertEquals("-0.5,3,'-x,\n", Csv.row(-0.5, 3, "-x", Double.NaN));
    }

    @Test
    void aWriterThatFailsHalfwayLeavesNeitherTheTargetNorATemporaryFile() throws IOException {
        Path target = dir.resolve("results.json");
        assertThrows(IOException.class, () -> AtomicFiles.writeStream(target, out -> {
            out.write("{\"half\": ".getBytes());
            throw new IOException("disk full (simulated)");
        }));
        assertFalse(Files.exists(target));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(), s.toList(), "no temporary left behind");
        }
        // an existing good file survives a failed rewrite untouched
        AtomicFiles.writeString(target, "{\"ok\": true}\n");
        assertThrows(IOException.class, () -> AtomicFiles.writeStream(target, out -> {
            out.write("{\"bro".getBytes());
            throw new IOException("killed (simulated)");
        }));
        assertEquals("{\"ok\": true}\n", Files.readString(target));
    }
}
