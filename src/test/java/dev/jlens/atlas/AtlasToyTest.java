package dev.jlens.atlas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.analysis.PromptSet;
import dev.jlens.api.Atlas;
import dev.jlens.formats.Npy;
import dev.jlens.formats.Tensor;
import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeEncoders;
import dev.jlens.sae.SparseCodes;
import dev.jlens.toy.planted.PlantedFrance;
import dev.jlens.toy.planted.WordRoles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The atlas on the planted France toy, end to end through the real llama.cpp: the statistics equal a brute-force
 * count over per-context captures, the planted features mean what was planted, and the files do not depend on how
 * the corpus was sharded.
 */
class AtlasToyTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    static Atlas.Toy toy;
    static List<String> lines;
    static WordRoles roles;
    static List<String> facetOfLine = new ArrayList<>();

    @TempDir static Path tmp;

    @BeforeAll
    static void generate() throws IOException {
        toy = Atlas.toy(null);
        lines = Files.readAllLines(toy.corpus());
        PromptSet france = PromptSet.builtin("france"), neutral = PromptSet.builtin("neutral"), distractor = PromptSet.builtin("distractor");
        roles = WordRoles.derive(france, neutral, distractor);
        for (PromptSet s : List.of(france, neutral, distractor)) {
            for (PromptSet.Prompt p : s.prompts()) facetOfLine.add(s == france ? p.facet() : null);
        }
        assertEquals(lines.size(), facetOfLine.size());
    }

    static List<JsonNode> features(Path dir) throws IOException {
        List<JsonNode> l = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("features.jsonl"))) l.add(JSON.readTree(line));
        return l;
    }

    static JsonNode feature(List<JsonNode> all, int f) {
        for (JsonNode n : all) if (n.get("feature").asInt() == f) return n;
        throw new AssertionError("feature " + f + " not in features.jsonl");
    }

    @Test
    void statisticsEqualABruteForceCountOverPerContextCaptures() throws IOException {
        Path out = tmp.resolve("brute");
        String coarse = toy.saes().get(0);
        Atlas.Summary r = Atlas.run(toy.model(), List.of(coarse), toy.corpus().toString(), out,
                Atlas.Options.defaults().withEncoder("scalar").withBatching(1, 50).withThreads(2), null);
        assertEquals(lines.size(), r.contexts());
        List<JsonNode> feats = features(out);
        // brute force: every line captured alone, scalar-encoded, dense counts and full sorts
        try (Model m = Model.load(toy.model()); Sae sae = Sae.load(coarse);
             Context ctx = m.newContext(Context.Params.defaults().withCtx(128).withUbatch(128).withSeqMax(1).withThreads(2));
             SaeEncoder enc = SaeEncoders.create(sae, "scalar")) {
            int d = sae.dSae();
            long[] fires = new long[d];
            float[] max = new float[d];
            long tokens = 0;
            Map<Integer, List<float[]>> perCtx = new HashMap<>(); // feature -> [ctx, pos, value]
            var tok = CorpusSource.tokenizer(m.vocab());
            for (int i = 0; i < lines.size(); i++) {
                int[] t = tok.tokenize(lines.get(i));
                int[] withBos = new int[t.length + 1];
                withBos[0] = m.vocab().bos();
                System.arraycopy(t, 0, withBos, 1, t.length);
                try (Activations a = ctx.capture(List.of(withBos), Context.CaptureSpec.layer(12))) {
                    SparseCodes c = enc.encode(a.data(), a.rows());
                    float[] cm = new float[d];
                    int[] cp = new int[d];
                    for (int row = 1; row < a.rows(); row++) {
                        tokens++;
                        int[] idx = c.indices(row);
                        float[] val = c.values(row);
                        for (int k = 0; k < idx.length; k++) {
                            fires[idx[k]]++;
                            max[idx[k]] = Math.max(max[idx[k]], val[k]);
                            if (val[k] > cm[idx[k]]) { cm[idx[k]] = val[k]; cp[idx[k]] = row; }
                        }
                    }
                    for (int f = 0; f < d; f++) if (cm[f] > 0) perCtx.computeIfAbsent(f, k -> new ArrayList<>()).add(new float[] {i, cp[f], cm[f]});
                }
            }
            int fired = 0;
            for (int f = 0; f < d; f++) if (fires[f] > 0) fired++;
            assertEquals(fired, feats.size(), "features that fired");
            for (JsonNode n : feats) {
                int f = n.get("feature").asInt();
                assertEquals(fires[f], n.get("fires").asLong(), "fires of " + f);
                assertEquals(tokens, n.get("tokens").asLong());
                assertEquals((double) fires[f] / tokens, n.get("density").asDouble(), 0.0, "density of " + f);
                assertEquals(max[f], n.get("max").floatValue(), "max of " + f);
                List<float[]> ex = perCtx.get(f);
                ex.sort((a, b) -> a[2] != b[2] ? Float.compare(b[2], a[2]) : a[0] != b[0] ? Float.compare(a[0], b[0]) : Float.compare(a[1], b[1]));
                JsonNode top = n.get("top");
                assertEquals(Math.min(20, ex.size()), top.size(), "top size of " + f);
                for (int k = 0; k < top.size(); k++) {
                    assertEquals((long) ex.get(k)[0], top.get(k).get("context").asLong(), "top " + k + " context of " + f);
                    assertEquals((int) ex.get(k)[1], top.get(k).get("position").asInt(), "top " + k + " position of " + f);
                    assertEquals(ex.get(k)[2], top.get(k).get("value").floatValue(), "top " + k + " value of " + f);
                }
            }
        }
        // numpy-side files agree with the JSON lines
        try (Arena a = Arena.ofConfined()) {
            Tensor dens = Npy.read(out.resolve("density.npy"), a);
            assertArrayEquals(new long[] {512}, dens.shape());
            for (JsonNode n : feats) {
                assertEquals((float) n.get("density").asDouble(), dens.data().getAtIndex(JAVA_FLOAT, n.get("feature").asInt()));
            }
        }
    }

    @Test
    void plantedFeaturesMeanWhatWasPlantedAndShardingDoesNotChangeABit() throws IOException {
        Path a = tmp.resolve("one-shard"), b = tmp.resolve("many-shards");
        Atlas.run(toy.model(), toy.saes(), toy.corpus().toString(), a, Atlas.Options.defaults().withBatching(4, 1024), null);
        Atlas.Summary rb = Atlas.run(toy.model(), toy.saes(), toy.corpus().toString(), b, Atlas.Options.defaults().withBatching(4, 88), null);
        assertEquals(7, (lines.size() + 87) / 88, "the second run has 7 shards");
        assertTrue(rb.shardsComputed() >= 7);
        for (int i = 0; i < 2; i++) {
            String prefix = "sae-" + i + "-";
            Path fa;
            try (var l = Files.list(a)) {
                fa = l.filter(p -> p.getFileName().toString().startsWith(prefix)).findFirst().orElseThrow();
            }
            Path fb = rb.folders().get(i);
            for (String file : List.of("features.jsonl", "density.npy", "max.npy")) {
                assertArrayEquals(Files.readAllBytes(fa.resolve(file)), Files.readAllBytes(fb.resolve(file)), file + " of SAE " + i);
            }
        }
        // coarse: the planted France feature's top contexts are France sentences; its logit lens promotes France words
        List<JsonNode> coarse = features(rb.folders().get(0));
        JsonNode fr = feature(coarse, PlantedFrance.COARSE_FRANCE);
        for (JsonNode e : fr.get("top")) {
            int line = (int) e.get("context").asLong();
            assertTrue(facetOfLine.get(line) != null, "France feature top context " + line + " is not a France sentence: " + lines.get(line));
            JsonNode toks = e.get("tokens");
            String maxTok = toks.get(e.get("position").asInt() - e.get("start").asInt()).asText();
            assertEquals(WordRoles.Kind.FRANCE, roles.role(maxTok.strip()).kind(), "max token '" + maxTok + "' of a France example");
        }
        int franceWords = 0;
        for (JsonNode p : fr.get("logits").get("positive")) if (roles.role(p.get(0).asText().strip()).kind() == WordRoles.Kind.FRANCE) franceWords++;
        assertEquals(10, franceWords, "all 10 most promoted tokens of the France feature are France words: " + fr.get("logits").get("positive"));
        // fine: each facet feature's top contexts come from its own facet's sentences
        List<JsonNode> fine = features(rb.folders().get(1));
        Map<String, Integer> facets = PlantedFrance.fineFacetFeatures(roles.facets());
        for (Map.Entry<String, Integer> e : facets.entrySet()) {
            JsonNode top = feature(fine, e.getValue()).get("top");
            int own = 0;
            for (JsonNode x : top) if (e.getKey().equals(facetOfLine.get((int) x.get("context").asLong()))) own++;
            assertTrue(own >= top.size() * 0.8, "facet " + e.getKey() + " feature " + e.getValue() + ": only " + own + " of " + top.size() + " top contexts from its facet");
        }
        // the quantile intervals cover [0, max] and their examples fall inside
        JsonNode q = fr.get("quantiles");
        assertEquals(5, q.size());
        for (JsonNode iv : q) for (JsonNode x : iv.get("examples")) {
            float v = x.get("value").floatValue();
            assertTrue(v >= iv.get("lo").floatValue() && v <= iv.get("hi").floatValue(), v + " outside " + iv);
        }
        JsonNode meta = JSON.readTree(rb.folders().get(0).resolve("atlas.json").toFile());
        assertEquals(lines.size(), meta.get("contexts").asLong());
        assertTrue(meta.get("logit_lens").get("convention").asText().contains("output_norm"));
        assertTrue(!Files.exists(b.resolve(".atlas-work")) || Files.list(b.resolve(".atlas-work")).findAny().isEmpty(), "work folder removed");
        System.out.println("france feature: fires " + fr.get("fires") + ", max " + fr.get("max") + ", logits " + fr.get("logits").get("positive"));
        System.out.println(Arrays.toString(new long[] {rb.contexts(), rb.tokens(), rb.exampleContexts()}));
    }
}
