package dev.jlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jlens quant-impact} on the planted toy through real llama.cpp quantisation, capture and France runs: the table's
 * structure, F32 against itself exact (two independent captures and runs), every other type measurably off, the
 * errors in the order the weights' precision gives (F16 < Q8_0 < Q4_0), the recomputed selectivities equal to the
 * study's own, and the document generated from the same numbers.
 */
class QuantImpactCommandTest {
    @TempDir Path tmp;

    @Test
    void theCommandWritesTheTableAndTheNumbersFollowThePrecision() throws IOException {
        Path out = tmp.resolve("qi"), doc = tmp.resolve("doc").resolve("quant-impact.md");
        CliRunner.Run r = CliRunner.run("quant-impact", "--out", out.toString(), "--types", "f16,q8_0,q4_0", "--permutations", "100",
                "--threads", "1", "--doc", doc.toString());
        assertEquals(0, r.code(), r.err());
        System.out.println(r.out());

        JsonNode j = Json.MAPPER.readTree(out.resolve("quant-impact.json").toFile());
        assertEquals("jlens-quant-impact/2", j.get("format").asText());
        assertEquals(12, j.get("layer").asInt());
        assertEquals(200, j.get("target_prompts").asInt());
        assertEquals(200, j.get("control_prompts").asInt());
        List<String> types = new java.util.ArrayList<>();
        Map<String, JsonNode> row = new HashMap<>();
        for (JsonNode x : j.get("rows")) {
            types.add(x.get("type").asText());
            row.put(x.get("type").asText(), x);
        }
        assertEquals(List.of("f32", "f16", "q8_0", "q4_0"), types);

        JsonNode f32 = row.get("f32");
        assertEquals(0.0, f32.get("row_error_max").asDouble());
        assertEquals(0.0, f32.get("row_error_mean").asDouble());
        assertEquals(1.0, f32.get("jaccard_coarse").asDouble());
        assertEquals(1.0, f32.get("jaccard_fine").asDouble());
        assertEquals(1.0, f32.get("spearman_top").asDouble(), 1e-12);
        assertEquals(100, f32.get("top_count").asInt());
        assertEquals(100, f32.get("top_overlap").asInt());
        assertTrue(f32.get("verdict_same").asBoolean() && f32.get("facet_split_same").asBoolean());
        assertEquals(0, f32.get("pairs_added").asInt() + f32.get("pairs_removed").asInt());
        assertEquals("GO", f32.get("decision").asText());
        assertTrue(f32.get("rows").asInt() > 2000, "non-BOS rows of 400 prompts: " + f32.get("rows"));
        assertTrue(f32.get("tensor_types").asText().startsWith("F32 x"), f32.toString());

        for (String t : List.of("f16", "q8_0", "q4_0")) {
            JsonNode x = row.get(t);
            assertTrue(x.get("row_error_mean").asDouble() > 0 && x.get("row_error_max").asDouble() >= x.get("row_error_mean").asDouble(), x.toString());
            assertTrue(x.get("jaccard_fine").asDouble() <= 1 && x.get("jaccard_fine").asDouble() > 0.5, x.toString());
            assertTrue(x.get("tensor_types").asText().contains(t.toUpperCase(Locale.ROOT)), x.toString());
            assertEquals(f32.get("rows").asInt(), x.get("rows").asInt());
        }
        for (String t : types) {
            // the selectivity the study ranks by, recomputed from this study's own captures, equals results.json's
            assertTrue(row.get(t).get("selectivity_check").asDouble() < 1e-9, t + ": " + row.get(t).get("selectivity_check"));
        }
        // the weights' precision orders the activations' error: fp16 inputs, then 8-bit blocks, then 4-bit weights
        assertTrue(row.get("f16").get("row_error_mean").asDouble() < row.get("q8_0").get("row_error_mean").asDouble(), j.toString());
        assertTrue(row.get("q8_0").get("row_error_mean").asDouble() < row.get("q4_0").get("row_error_mean").asDouble(), j.toString());
        assertTrue(row.get("f16").get("row_error_max").asDouble() < row.get("q4_0").get("row_error_max").asDouble(), j.toString());

        List<String> md = Files.readAllLines(out.resolve("quant-impact.md"));
        assertEquals(2 + types.size(), md.size(), String.join("\n", md));
        assertTrue(md.get(0).startsWith("| weights | file | tensor types | row error max | row error mean | Jaccard coarse | Jaccard fine |"), md.get(0));
        int columns = md.get(0).split("\\|", -1).length;
        for (String line : md) assertEquals(columns, line.split("\\|", -1).length, line);
        for (int i = 0; i < types.size(); i++) assertTrue(md.get(2 + i).startsWith("| " + types.get(i).toUpperCase(Locale.ROOT) + " |"), md.get(2 + i));

        String d = Files.readString(doc);
        assertTrue(d.contains("Generated by `jlens quant-impact --types f16,q8_0,q4_0 --permutations 100 --doc "), d);
        assertTrue(d.contains(String.join("\n", md)), "the document holds the table");
        assertTrue(d.contains(String.format(Locale.ROOT, "%.2e", row.get("q4_0").get("row_error_max").asDouble())), d);
    }
}
