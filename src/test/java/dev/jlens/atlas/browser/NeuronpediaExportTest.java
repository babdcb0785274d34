package dev.jlens.atlas.browser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Neuronpedia export against the fixture atlas: the field names, order and JSON types of SAEDashboard's
 * batch files (NeuronpediaDashboardBatch / Feature / Activation {@code to_dict} in sae_dashboard/neuronpedia/
 * neuronpedia_dashboard.py) and values traced back to the fixture.
 */
class NeuronpediaExportTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** NeuronpediaDashboardFeature.to_dict, in its order. */
    private static final List<String> FEATURE_FIELDS = List.of("feature_index", "neuron_alignment_indices",
            "neuron_alignment_values", "neuron_alignment_l1", "correlated_neurons_indices", "correlated_neurons_l1",
            "correlated_neurons_pearson", "correlated_features_indices", "correlated_features_l1",
            "correlated_features_pearson", "neg_str", "neg_values", "pos_str", "pos_values", "frac_nonzero",
            "freq_hist_data_bar_values", "freq_hist_data_bar_heights", "logits_hist_data_bar_heights",
            "logits_hist_data_bar_values", "n_prompts_total", "n_tokens_in_prompt", "dataset", "decoder_weights_dist",
            "activations", "vector");
    /** NeuronpediaDashboardActivation.to_dict without the DFA fields (written only when DFA ran). */
    private static final List<String> ACTIVATION_FIELDS = List.of("bin_min", "bin_max", "bin_contains", "tokens",
            "values", "qualifying_token_index");

    @TempDir Path dir;

    @Test
    void batchesFollowSaeDashboardsLayoutWithValuesFromTheAtlas() throws IOException {
        Path atlas = dir.resolve("atlas");
        AtlasFixture fx = AtlasFixture.write(atlas, 300, 20, "gemma-2-2b/12-gemmascope-res-16k");
        NeuronpediaExport.Written w = NeuronpediaExport.write(atlas, dir.resolve("np"));
        List<Integer> alive = fx.aliveFeatures();
        assertEquals(270, w.features());
        assertEquals(30, w.skipped());
        assertEquals(List.of(dir.resolve("np/batch-0.json"), dir.resolve("np/batch-1.json"), dir.resolve("np/batch-2.json")), w.batches());

        List<JsonNode> features = new ArrayList<>();
        for (Path b : w.batches()) {
            JsonNode batch = JSON.readTree(b.toFile());
            assertEquals(List.of("model_id", "layer", "sae_set", "sae_id_suffix", "features"), names(batch));
            assertEquals("gemma-2-2b", batch.get("model_id").textValue());
            assertTrue(batch.get("layer").isInt());
            assertEquals(12, batch.get("layer").intValue());
            assertEquals("gemmascope-res-16k", batch.get("sae_set").textValue());
            assertTrue(batch.get("sae_id_suffix").isNull());
            batch.get("features").forEach(features::add);
        }
        assertEquals(alive.size(), features.size());
        assertEquals(List.of(128, 128, 14), w.batches().stream().map(p -> readTree(p).get("features").size()).toList());

        for (int i = 0; i < features.size(); i++) {
            JsonNode f = features.get(i);
            int id = alive.get(i);
            assertEquals(FEATURE_FIELDS, names(f), "fields of feature " + id);
            assertEquals(id, f.get("feature_index").intValue());
            for (String empty : List.of("neuron_alignment_indices", "correlated_features_pearson", "logits_hist_data_bar_values",
                    "decoder_weights_dist", "vector")) {
                assertTrue(f.get(empty).isArray() && f.get(empty).isEmpty(), empty);
            }
            assertEquals(fx.density(id), f.get("frac_nonzero").doubleValue(), 0.0);
            assertEquals(2000, f.get("n_prompts_total").intValue());
            assertEquals(128, f.get("n_tokens_in_prompt").intValue());
            assertEquals("", f.get("dataset").textValue());
            assertEquals(10, f.get("pos_str").size());
            assertEquals(AtlasFixture.PEAKS[id % AtlasFixture.PEAKS.length], f.at("/pos_str/0").textValue());
            assertEquals(3.5, f.at("/pos_values/0").doubleValue(), 1e-6);
            assertEquals(-1.5, f.at("/neg_values/0").doubleValue(), 1e-6);
            assertTrue(f.at("/pos_values/0").isNumber() && f.at("/neg_str/0").isTextual());

            // histogram: the midpoints of the shared 0.25-wide bins the feature fired in, and its counts
            JsonNode values = f.get("freq_hist_data_bar_values");
            JsonNode heights = f.get("freq_hist_data_bar_heights");
            assertEquals((int) Math.ceil(fx.max(id) / AtlasFixture.BIN_WIDTH), values.size());
            long total = 0;
            for (int b = 0; b < values.size(); b++) {
                assertEquals((b + 0.5) * AtlasFixture.BIN_WIDTH, values.get(b).doubleValue(), 1e-12);
                assertTrue(heights.get(b).isIntegralNumber());
                total += heights.get(b).longValue();
            }
            assertEquals(fx.fires(id), total);
            checkActivations(fx, id, f.get("activations"));
        }

        JsonNode skipped = JSON.readTree(w.skippedIndexes().toFile());
        assertEquals("12", skipped.get("layer").textValue(), "SAEDashboard writes the layer as a string here");
        List<Integer> dead = new ArrayList<>();
        skipped.get("skipped_indexes").forEach(n -> dead.add(n.intValue()));
        assertEquals(java.util.stream.IntStream.range(0, 300).filter(f -> !fx.alive(f)).boxed().toList(), dead);
    }

    /** Top examples first (bin -1 / max / -1), then the intervals from the highest; BOS left out of the tokens. */
    private static void checkActivations(AtlasFixture fx, int id, JsonNode activations) {
        List<AtlasFixture.Example> top = fx.top(id);
        assertEquals(top.size() + AtlasFixture.QUANTILES * AtlasFixture.QUANTILE_EXAMPLES, activations.size());
        Iterator<JsonNode> it = activations.iterator();
        for (AtlasFixture.Example e : top) {
            JsonNode a = it.next();
            assertEquals(ACTIVATION_FIELDS, names(a));
            assertEquals(-1, a.get("bin_min").doubleValue());
            assertEquals(fx.max(id), a.get("bin_max").floatValue());
            assertEquals(-1, a.get("bin_contains").doubleValue());
            List<String> tokens = AtlasBrowserTest.strings(a.get("tokens"));
            List<String> expected = e.start() == 0 ? e.tokens().subList(1, e.tokens().size()) : e.tokens();
            assertEquals(expected, tokens);
            assertFalse(tokens.contains("<bos>"));
            assertEquals(tokens.size(), a.get("values").size());
            int q = a.get("qualifying_token_index").intValue();
            assertEquals(e.maxToken(), tokens.get(q));
            assertEquals(e.value(), a.get("values").get(q).floatValue());
        }
        double previousMin = Double.MAX_VALUE;
        double contains = 0;
        for (int k = 0; k < AtlasFixture.QUANTILES; k++) {
            double binMin = Double.NaN;
            for (int i = 0; i < AtlasFixture.QUANTILE_EXAMPLES; i++) {
                JsonNode a = it.next();
                binMin = a.get("bin_min").doubleValue();
                double binMax = a.get("bin_max").doubleValue();
                assertTrue(binMin < binMax && binMax <= previousMin + 1e-6, "intervals come from the highest down");
                int q = a.get("qualifying_token_index").intValue();
                double v = a.get("values").get(q).doubleValue();
                assertTrue(v >= binMin - 1e-6 && v <= binMax + 1e-6, "an interval example's value lies in its interval");
                if (i == 0) contains += a.get("bin_contains").doubleValue();
            }
            previousMin = binMin;
        }
        // the intervals tile [0, max], so their fractions of all tokens (non-firing ones in the lowest) add up to 1
        assertEquals(1.0, contains, 1e-6, "interval fractions of feature " + id);
        JsonNode lowest = activations.get(activations.size() - 1);
        assertTrue(lowest.get("bin_contains").doubleValue() >= 1 - fx.density(id) - 1e-9);
    }

    @Test
    void targetComesFromTheNeuronpediaIdOrFromPlaceholderNames() throws IOException {
        Path a = dir.resolve("a");
        AtlasFixture.write(a, 20, 3, "gemma-2-2b/12-gemmascope-res-16k");
        assertEquals(new NeuronpediaExport.Target("gemma-2-2b", 12, "gemmascope-res-16k"), NeuronpediaExport.target(a));

        Path b = dir.resolve("b");
        AtlasFixture.write(b, 20, 3, null);
        assertEquals(new NeuronpediaExport.Target("gemma-2-2b-q8_0", 12, "layer_12-width_16k-canonical"), NeuronpediaExport.target(b));

        Path c = dir.resolve("c");
        AtlasFixture.write(c, 20, 3, "gemma-2-2b/20-gemmascope-res-16k");
        FormatException e = assertThrows(FormatException.class, () -> NeuronpediaExport.target(c));
        assertTrue(e.getMessage().contains("sae.neuronpedia_id") && e.getMessage().contains("layer 20"), e.getMessage());
    }

    @Test
    void aSecondExportLeavesExactlyItsOwnBatches() throws IOException {
        Path atlas = dir.resolve("atlas");
        AtlasFixture.write(atlas, 100, 3, null);
        Path out = dir.resolve("np");
        NeuronpediaExport.Target t = new NeuronpediaExport.Target("gemma-2-2b", 12, "jlens-test");
        assertEquals(9, NeuronpediaExport.write(atlas, out, t, 10).batches().size());
        NeuronpediaExport.Written w = NeuronpediaExport.write(atlas, out, t, 50);
        assertEquals(2, w.batches().size());
        try (var files = Files.list(out)) {
            assertEquals(List.of("batch-0.json", "batch-1.json", "skipped_indexes.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertEquals("jlens-test", readTree(w.batches().getFirst()).get("sae_set").textValue());
    }

    private static List<String> names(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static JsonNode readTree(Path p) {
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
