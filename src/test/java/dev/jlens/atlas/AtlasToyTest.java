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
import dev.jlens.analysis.WordRoles;
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
                Atlas.Options.defaults().withEncoder(dev.jlens.api.EncoderKind.SCALAR).withBatching(128, 50).withThreads(2), null);
        assertEquals(lines.size(), r.contexts());
        List<JsonNode> feats = features(out);
        // brute force: the same decode batches captured directly, scalar-encoded, dense counts and full sorts
        AtlasSettings settings = AtlasSettings.defaults(12, 2).withBatching(128, 50);
        try (Model m = Model.load(toy.model()); Sae sae = Sae.load(coarse);
             Context ctx = m.newContext(Context.Params.defaults().withCtx(128).withUbatch(128).withSeqMax(AtlasSettings.MAX_BATCH_CONTEXTS).withThreads(2));
             SaeEncoder enc = SaeEncoders.create(sae, "scalar")) {
            int d = sae.dSae();
            long[] fires = new long[d];
            float[] max = new float[d];
            long tokens = 0;
            Map<Integer, List<float[]>> perCtx = new HashMap<>(); // feature -> [ctx, pos, value]
            var tok = CorpusSource.tokenizer(m.vocab());
            List<AtlasContext> all = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                int[] t = tok.tokenize(lines.get(i));
                int[] withBos = new int[t.length + 1];
                withBos[0] = m.vocab().bos();
                System.arraycopy(t, 0, withBos, 1, t.length);
                all.add(new AtlasContext(i, i, withBos));
            }
            for (int s0 = 0; s0 < all.size(); s0 += 50) {
                for (List<AtlasContext> batch : ShardWork.batches(all.subList(s0, Math.min(all.size(), s0 + 50)), settings)) {
                    List<int[]> toks = new ArrayList<>();
                    for (AtlasContext c : batch) toks.add(c.tokens());
                    try (Activations a = ctx.capture(toks, Context.CaptureSpec.layer(12))) {
                        SparseCodes c = enc.encode(a.data(), a.rows());
                        int row0 = 0;
                        for (AtlasContext x : batch) {
                            float[] cm = new float[d];
                            int[] cp = new int[d];
                            for (int pos = 1; pos < x.tokens().length; pos++) {
                                tokens++;
                                int[] idx = c.indices(row0 + pos);
                                float[] val = c.values(row0 + pos);
                                for (int k = 0; k < idx.length; k++) {
                                    fires[idx[k]]++;
                                    max[idx[k]] = Math.max(max[idx[k]], val[k]);
                                    if (val[k] > cm[idx[k]]) { cm[idx[k]] = val[k]; cp[idx[k]] = pos; }
                                }
                            }
                            for (int f = 0; f < d; f++) if (cm[f] > 0) perCtx.computeIfAbsent(f, k -> new ArrayList<>()).add(new float[] {x.id(), cp[f], cm[f]});
                            row0 += x.tokens().length;
                        }
                    }
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
    void plantedFeaturesMeanWhatWasPlantedAndPartitioningDoesNotChangeABit() throws IOException {
        int perShard = (lines.size() + 6) / 7;
        Atlas.Options opts = Atlas.Options.defaults().withBatching(512, perShard).withThreads(2);
        Path b = tmp.resolve("atlas");
        Atlas.Summary rb = Atlas.run(toy.model(), toy.saes(), toy.corpus().toString(), b, opts, null);
        assertEquals(7, rb.shardsComputed(), "7 shards");
        // the shards' partials merged as 1, 2 and 7 partitions (contiguous groups merged inside, then in order or
        // reversed) give the same bytes: what the Spark job relies on
        AtlasSettings settings = AtlasSettings.defaults(12, 2).withBatching(512, perShard);
        try (Model m = Model.load(toy.model()); Sae coarse = Sae.load(toy.saes().get(0)); Sae fine = Sae.load(toy.saes().get(1));
             ShardWork w = new ShardWork(m, List.of(coarse, fine), settings)) {
            CorpusSource src = new CorpusSource(dev.jlens.atlas.corpus.CorpusSpec.of(toy.corpus().toString()), CorpusSource.tokenizer(m.vocab()),
                    m.vocab().bos(), null);
            List<List<FeatureStats>> partials = new ArrayList<>();
            try (ContextSource.Pass pass = src.open()) {
                for (List<AtlasContext> sh = AtlasEngine.nextShard(pass, settings); !sh.isEmpty(); sh = AtlasEngine.nextShard(pass, settings)) {
                    partials.add(w.scan(sh));
                }
            }
            assertEquals(7, partials.size());
            for (int sae = 0; sae < 2; sae++) {
                byte[] reference = null;
                for (int parts : new int[] {1, 2, 7}) {
                    for (boolean reversed : new boolean[] {false, true}) {
                        List<FeatureStats> groups = new ArrayList<>();
                        for (int g = 0; g < parts; g++) {
                            FeatureStats acc = new FeatureStats(sae == 0 ? 512 : 8192, settings.topK(), settings.sampleSize());
                            for (int k = 7 * g / parts; k < 7 * (g + 1) / parts; k++) acc.merge(partials.get(k).get(sae));
                            groups.add(acc);
                        }
                        FeatureStats total = new FeatureStats(sae == 0 ? 512 : 8192, settings.topK(), settings.sampleSize());
                        for (int g = 0; g < parts; g++) total.merge(groups.get(reversed ? parts - 1 - g : g));
                        byte[] bytes = FeatureStatsTest.bytes(total);
                        if (reference == null) reference = bytes;
                        assertArrayEquals(reference, bytes, "SAE " + sae + ", " + parts + " partitions" + (reversed ? ", reversed" : ""));
                    }
                }
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
