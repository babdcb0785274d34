package dev.jlens.study;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.jlens.api.Experiment;
import dev.jlens.api.Failures;
import dev.jlens.api.Toys;
import dev.jlens.cli.CliRunner;
import dev.jlens.formats.CsrNpz;
import dev.jlens.util.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The files of a real toy France run (the planted toy, every fifth shipped prompt, 100 permutations) as other tools read
 * them: results.json validates against docs/schema/results.schema.json with an independent JSON Schema validator and
 * has only snake_case keys; a camelCase results.json of an older jlens is refused naming the file and "format";
 * prompt_features_*.npz hold the prompt x feature matrix the statistics came from (every active feature's means and
 * fire rates in the feature CSVs recomputed from it, the top prompts' values found in it) and scipy loads them;
 * the feature CSVs have one row per active feature with both rankings as columns.
 */
class ResultFilesTest {
    @TempDir static Path dir;
    static Path run;
    static JsonNode results;

    @BeforeAll
    static void runOnce() throws IOException {
        Toys.PlantedFrance toy = Toys.plantedFrance(true, null);
        Path target = dir.resolve("target.jsonl"), control = dir.resolve("control.jsonl");
        Files.write(target, everyFifth("france.jsonl"));
        Files.write(control, everyFifth("neutral.jsonl"));
        Experiment.Settings s = Experiment.Settings.builder().targetPrompts(target).controlPrompts(control).permutations(100).threads(2)
                .cacheDir(dir.resolve("cache")).build();
        run = dir.resolve("run");
        Experiment.run(toy.model(), toy.coarseSae(), toy.fineSae(), run, s, null);
        results = Json.MAPPER.readTree(run.resolve("results.json").toFile());
    }

    private static List<String> everyFifth(String shipped) throws IOException {
        List<String> all;
        try (var in = ResultFilesTest.class.getResourceAsStream("/dev/jlens/prompts/" + shipped)) {
            all = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < all.size(); i += 5) out.add(all.get(i));
        return out;
    }

    static Schema schema() throws IOException {
        Path file = Path.of("docs/schema/results.schema.json");
        assertTrue(Files.isRegularFile(file), "run from the repository root: " + file.toAbsolutePath());
        return SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(Files.readString(file), InputFormat.JSON);
    }

    @Test
    void resultsJsonValidatesAgainstItsSchemaAndTheSchemaIsStrict() throws IOException {
        Schema schema = schema();
        List<Error> errors = schema.validate(results);
        assertTrue(errors.isEmpty(), "results.json against docs/schema/results.schema.json: " + errors);
        assertEquals(Json.RESULTS_FORMAT, results.get("format").asText());

        // the schema is complete and closed: a key it does not know, a camelCase key, a missing key, a wrong type all fail
        ObjectNode extra = results.deepCopy();
        ((ObjectNode) extra.get("config")).put("hookName", "blocks.12.hook_resid_post");
        assertFalse(schema.validate(extra).isEmpty(), "an unknown (camelCase) key in config must fail");
        ObjectNode missing = results.deepCopy();
        ((ObjectNode) missing.get("fine").get("top_by_selectivity").get(0)).remove("permutation_p_value");
        assertFalse(schema.validate(missing).isEmpty(), "a missing feature field must fail");
        ObjectNode wrong = results.deepCopy();
        ((ObjectNode) wrong.get("verdict")).put("decision", "MAYBE");
        assertFalse(schema.validate(wrong).isEmpty(), "a decision outside GO/NO_GO must fail");
        ObjectNode noFormat = results.deepCopy();
        noFormat.remove("format");
        assertFalse(schema.validate(noFormat).isEmpty(), "format is required");
    }

    @Test
    void everyKeyOfResultsJsonIsSnakeCase() {
        List<String> bad = new ArrayList<>();
        keys(results, "", bad);
        assertTrue(bad.isEmpty(), "keys that are not snake_case: " + bad);
        assertTrue(results.at("/config/coarse_sae/d_in").asInt() > 0 && results.at("/config/coarse_sae/hook_name").isTextual(), results.get("config").toString());
        assertTrue(results.at("/fine/top_by_selectivity/0").has("permutation_p_value"), "as the CSV column, not permutation_pvalue");
    }

    private static void keys(JsonNode n, String at, List<String> bad) {
        if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                var e = it.next();
                // mean_by_facet's keys are the prompts' facet names, data rather than field names
                if (!at.endsWith("/mean_by_facet") && !e.getKey().matches("[a-z][a-z0-9]*(_[a-z0-9]+)*")) bad.add(at + "/" + e.getKey());
                keys(e.getValue(), at + "/" + e.getKey(), bad);
            }
        } else if (n.isArray()) {
            for (JsonNode x : n) keys(x, at + "[]", bad);
        }
    }

    @Test
    void anOlderCamelCaseResultsJsonIsRefusedNamingFileAndFormat() throws Exception {
        ObjectNode old = results.deepCopy();
        old.remove("format");
        ObjectNode config = (ObjectNode) old.get("config");
        config.set("hookName", config.remove("hook_name"));
        Path file = dir.resolve("old-results.json");
        Files.writeString(file, Json.MAPPER.writeValueAsString(old));
        IOException e = assertThrows(IOException.class, () -> Experiment.Results.read(file));
        assertTrue(Failures.isBadInput(e), e.toString());
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("format"), e.getMessage());

        CliRunner.Run r = CliRunner.run("report", "--results", file.toString(), "--out", dir.resolve("old-report").toString());
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains(file.toString()) && r.err().contains("format") && r.err().contains("older jlens"), r.err());
        assertFalse(Files.exists(dir.resolve("old-report/report.html")));
    }

    record Matrix(CsrNpz m, int nTarget) {
        double[] columnStats(int feature) { // mean target, mean control, fire rate target, fire rate control
            double st = 0, sc = 0;
            int ft = 0, fc = 0;
            for (int p = 0; p < m.rows(); p++) {
                for (int k = m.indptr()[p]; k < m.indptr()[p + 1]; k++) {
                    if (m.indices()[k] != feature) continue;
                    if (p < nTarget) { st += m.data()[k]; ft++; } else { sc += m.data()[k]; fc++; }
                }
            }
            int nc = m.rows() - nTarget;
            return new double[] {st / nTarget, sc / nc, (double) ft / nTarget, (double) fc / nc};
        }

        float at(int prompt, int feature) {
            for (int k = m.indptr()[prompt]; k < m.indptr()[prompt + 1]; k++) if (m.indices()[k] == feature) return m.data()[k];
            return 0f;
        }
    }

    @Test
    void promptFeatureMatricesAreTheOnesTheStatisticsCameFrom() throws IOException {
        int nTarget = results.at("/config/target_prompts").asInt(), nControl = results.at("/config/control_prompts").asInt();
        List<String> prompts = Files.readAllLines(run.resolve("prompts.csv"));
        assertEquals("row,id,label,facet,text", prompts.get(0));
        assertEquals(nTarget + nControl + 1, prompts.size());
        assertTrue(prompts.get(1).startsWith("0,target-0,target,") && prompts.get(nTarget + 1).startsWith(nTarget + ",control-0,control,"),
                prompts.get(nTarget + 1));
        for (String sae : List.of("coarse", "fine")) {
            CsrNpz m = CsrNpz.read(run.resolve("prompt_features_" + sae + ".npz"));
            assertEquals(nTarget + nControl, m.rows(), sae);
            assertEquals(results.at("/config/" + sae + "_sae/d_sae").asInt(), m.cols(), sae);
            assertEquals(results.at("/" + sae + "/activations").asLong(), m.nnz(), sae + ": one entry per (prompt, feature) activation");
            java.util.Set<Integer> cols = new java.util.HashSet<>();
            for (int k = 0; k < m.nnz(); k++) {
                cols.add(m.indices()[k]);
                assertTrue(m.data()[k] > 0, "stored values are the activations above 0");
            }
            assertEquals(results.at("/" + sae + "/active_features").asInt(), cols.size(), sae + " active features");
            for (int p = 0; p < m.rows(); p++)
                for (int k = m.indptr()[p] + 1; k < m.indptr()[p + 1]; k++) assertTrue(m.indices()[k] > m.indices()[k - 1], "sorted indices");
            Matrix x = new Matrix(m, nTarget);

            // every top feature's top prompts carry exactly the matrix's values
            for (JsonNode f : results.at("/" + sae + "/top_by_selectivity")) {
                for (JsonNode tp : f.get("top_prompts")) {
                    assertEquals((float) tp.get("value").asDouble(), x.at(tp.get("prompt").asInt(), f.get("feature").asInt()),
                            sae + " feature " + f.get("feature") + " prompt " + tp.get("prompt"));
                }
            }

            // the feature CSV: one row per active feature, its statistics recomputed from the matrix
            List<String> csv = Files.readAllLines(run.resolve("features_" + sae + ".csv"));
            assertEquals(String.join(",", StudyTables.FEATURE_COLUMNS), csv.get(0));
            assertEquals(cols.size() + 1, csv.size(), sae + ": one row per active feature");
            Map<Integer, String[]> byFeature = new HashMap<>();
            for (String line : csv.subList(1, csv.size())) {
                String[] c = line.split(",", -1);
                byFeature.put(Integer.parseInt(c[0]), c);
                double[] st = x.columnStats(Integer.parseInt(c[0]));
                for (int i = 0; i < 4; i++) {
                    assertEquals(st[i], Double.parseDouble(c[3 + i]), 1e-9 * Math.max(1, Math.abs(st[i])), sae + " " + line + " column " + (3 + i));
                }
            }
            assertEquals(cols, byFeature.keySet());

            // the rankings as columns: the first rows are results.json's top_by_selectivity, in order
            JsonNode top = results.at("/" + sae + "/top_by_selectivity");
            for (int i = 0; i < top.size(); i++) {
                String[] row = csv.get(i + 1).split(",", -1);
                assertEquals(top.get(i).get("feature").asInt(), Integer.parseInt(row[0]), sae + " selectivity rank " + (i + 1));
                assertEquals(i + 1, Integer.parseInt(row[1]));
            }
            JsonNode eff = results.at("/" + sae + "/top_by_effect_size");
            for (int i = 0; i < eff.size(); i++) {
                assertEquals(String.valueOf(i + 1), byFeature.get(eff.get(i).get("feature").asInt())[2], sae + " effect size rank " + (i + 1));
            }
        }
    }

    @Test
    void scipyLoadsThePromptFeatureMatrix() throws Exception {
        String script = """
                import sys, json, numpy as np, scipy.sparse as sp
                m = sp.load_npz(sys.argv[1])
                print(json.dumps({"format": m.format, "shape": list(m.shape), "nnz": int(m.nnz), "sum": float(m.sum(dtype=np.float64)),
                                  "sorted": bool(m.has_sorted_indices)}))
                """;
        Path npz = run.resolve("prompt_features_fine.npz");
        JsonNode j = dev.jlens.formats.PythonScipy.run(script, npz.toString());
        CsrNpz m = CsrNpz.read(npz);
        double sum = 0;
        for (float v : m.data()) sum += v;
        assertEquals("csr", j.get("format").asText());
        assertEquals(m.rows(), j.get("shape").get(0).asInt());
        assertEquals(m.cols(), j.get("shape").get(1).asInt());
        assertEquals(m.nnz(), j.get("nnz").asInt());
        assertEquals(sum, j.get("sum").asDouble(), 1e-9 * Math.max(1, sum));
        assertTrue(j.get("sorted").asBoolean());
    }
}
