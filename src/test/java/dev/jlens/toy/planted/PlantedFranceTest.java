package dev.jlens.toy.planted;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.analysis.CrossResolutionMap;
import dev.jlens.analysis.WordRoles;
import dev.jlens.analysis.FacetProfile;
import dev.jlens.analysis.FeatureContrast;
import dev.jlens.analysis.PromptSet;
import dev.jlens.formats.GgufFile;
import dev.jlens.sae.Sae;
import dev.jlens.toy.Vocabulary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The planted toy end to end in pure Java. The forward pass (Gemma2Reference, f64) costs ~0.1 s per prompt
 * on 2 cores, so the planted run uses every 3rd France and neutral prompt (67 + 67, ~8 per facet) and the
 * unplanted run every 10th (20 + 20).
 */
class PlantedFranceTest {
    static final long SEED = 7;
    @TempDir static Path tmp;
    static PlantedFrance.Model model;
    static PlantedFrance.Generated files;

    @BeforeAll
    static void generate() throws Exception {
        model = PlantedFrance.model(true, SEED);
        files = PlantedFrance.generate(tmp.resolve("planted"), model);
    }

    private static CrossResolutionMap.Pair pair(CrossResolutionMap.Result map, int anchor, int fine) {
        return map.pairs().stream().filter(p -> p.anchor() == anchor && p.fine() == fine).findFirst()
                .orElseThrow(() -> new AssertionError("fine feature " + fine + " is not among the top fine features of anchor " + anchor));
    }

    @Test
    void plantedModelRecoversTheGroundTruthThroughTheWholeExperiment() throws Exception {
        PlantedPipeline.Outcome o = PlantedPipeline.run(model, files, 3);
        GroundTruth gt = files.truth();
        int france = gt.coarse().franceFeature();

        FeatureContrast top = o.anchors().get(0);
        assertEquals(france, top.feature(), "planted France feature must rank first by selectivity: " + o.anchors());
        FeatureContrast bleed = o.coarseStats().stream().filter(s -> s.feature() == gt.coarse().bleedFeature()).findFirst().orElseThrow();
        assertTrue(bleed.meanTarget() > top.meanTarget(), "bleed feature fires harder on France prompts: " + bleed);
        assertTrue(bleed.selectivity() < top.selectivity() - 0.1, "bleed feature is less selective: " + bleed);
        System.out.printf("coarse France %d: selectivity %.4f meanT %.2f meanC %.3f; bleed %d: selectivity %.3f meanT %.2f meanC %.2f%n",
                france, top.selectivity(), top.meanTarget(), top.meanControl(), bleed.feature(), bleed.selectivity(), bleed.meanTarget(), bleed.meanControl());

        Map<Integer, FacetProfile> profiles = new java.util.HashMap<>();
        for (FacetProfile p : o.profiles()) profiles.put(p.feature(), p);
        for (Map.Entry<String, Integer> e : gt.fine().facetFeatures().entrySet()) {
            CrossResolutionMap.Pair p = pair(o.map(), france, e.getValue());
            assertEquals(dev.jlens.api.Classification.MATCH, p.classification(), e.getKey() + ": " + p);
            assertTrue(p.cosine() > 0.3 && p.correlation() > 0.5, p.toString());
            assertEquals(gt.facetCosines().get(e.getKey()), p.cosine(), 1e-5, "ground truth cosine of " + e.getKey());
            FacetProfile fp = profiles.get(e.getValue());
            assertEquals(e.getKey(), fp.likelyFacet(), fp.toString());
            assertTrue(fp.dominanceRatio() >= 2.0, e.getKey() + " dominance " + fp.dominanceRatio());
            System.out.printf("fine %-16s %4d: correlation %.3f cosine %.3f dominance %.2f%n", e.getKey(), e.getValue(),
                    p.correlation(), p.cosine(), fp.dominanceRatio());
        }
        for (GroundTruth.Decoy d : gt.fine().decoys()) {
            CrossResolutionMap.Pair p = pair(o.map(), france, d.feature());
            assertEquals(dev.jlens.api.Classification.valueOf(d.kind()), p.classification(), "decoy " + p);
            System.out.printf("decoy %s %d: correlation %.3f cosine %.3f%n", d.kind(), d.feature(), p.correlation(), p.cosine());
        }
        dev.jlens.api.Verdict v = o.map().verdict();
        assertEquals(dev.jlens.api.Decision.GO, v.decision(), v.reason());
        assertEquals(france, v.anchor(), v.reason());
        assertEquals(gt.fine().facetFeatures().size(), v.matches(), "exactly the planted facets match: " + v.reason());
    }

    @Test
    void withoutPlantingTheExperimentSaysNoGo() throws Exception {
        PlantedFrance.Model m = PlantedFrance.model(false, SEED);
        PlantedFrance.Generated g = PlantedFrance.generate(tmp.resolve("unplanted"), m);
        assertEquals("NO_GO", g.truth().expectedVerdict());
        assertArrayEquals(model.vocabulary().tokens().toArray(), m.vocabulary().tokens().toArray(), "same vocabulary");
        assertArrayEquals(model.weights().layers().get(3).ffnUp(), m.weights().layers().get(3).ffnUp(), "same random blocks");
        PlantedPipeline.Outcome o = PlantedPipeline.run(m, g, 10);
        dev.jlens.api.Verdict v = o.map().verdict();
        System.out.println("unplanted: " + v.reason());
        assertEquals(dev.jlens.api.Decision.NO_GO, v.decision(), v.reason());
        assertNotEquals(PlantedFrance.COARSE_FRANCE, o.anchors().get(0).feature(), "no France feature without planting");
    }

    @Test
    void everyFrancePromptHasAFranceWordAndNeutralPromptsHaveNone() throws Exception {
        Vocabulary v = model.vocabulary();
        for (String set : List.of("france", "neutral", "distractor")) {
            for (PromptSet.Prompt p : PromptSet.builtin(set).prompts()) {
                long franceTokens = java.util.Arrays.stream(v.encode(p.text())).skip(1)
                        .filter(t -> model.tokenRole(t).kind() == WordRoles.Kind.FRANCE).count();
                if (set.equals("france")) assertTrue(franceTokens >= 1, "no France word in \"" + p.text() + "\"");
                else assertEquals(0, franceTokens, set + " prompt with a France word: \"" + p.text() + "\"");
            }
        }
        assertTrue(model.roles().promoted().isEmpty(), "shipped sets need no promoted words: " + model.roles().promoted());
    }

    @Test
    void tokenizerSpellsEveryPromptWordAsOneToken() throws Exception {
        Vocabulary v = model.vocabulary();
        for (String set : PromptSet.BUILTIN) {
            for (PromptSet.Prompt p : PromptSet.builtin(set).prompts()) {
                int[] ids = v.encode(p.text());
                assertEquals(Vocabulary.BOS, ids[0]);
                StringBuilder text = new StringBuilder();
                for (int i = 1; i < ids.length; i++) text.append(v.token(ids[i]).replace(Vocabulary.SPACE, " "));
                assertEquals(p.text(), text.toString(), "no byte fallback, pieces spell the prompt");
                assertEquals(WordRoles.split(p.text()).size(), ids.length - 1, "one token per word: \"" + p.text() + "\"");
            }
        }
    }

    @Test
    void francePromptWithoutExclusiveWordPromotesItsRarestNonStopword() {
        PromptSet france = set("france", new PromptSet.Prompt("Paris has a river.", "geography"),
                new PromptSet.Prompt("The old bridge has a view.", "landmarks"));
        PromptSet neutral = set("neutral", new PromptSet.Prompt("The river has a bridge and a view.", null));
        PromptSet japan = set("distractor", new PromptSet.Prompt("Tokyo has an old river.", "geography"));
        WordRoles r = WordRoles.derive(france, neutral, japan);
        assertEquals(new WordRoles.Role(WordRoles.Kind.FRANCE, "geography"), r.role("paris"));
        assertEquals(new WordRoles.Role(WordRoles.Kind.JAPAN, "geography"), r.role("Tokyo"));
        // "old" is shared with the distractor set, so the second prompt has no exclusive word; it is the
        // only word of that prompt absent from the neutral prompts
        assertEquals(new WordRoles.Role(WordRoles.Kind.FRANCE, "landmarks"), r.role("old"));
        assertEquals(java.util.Set.of("old"), r.promoted());
        // every word of this prompt occurs in a neutral prompt: nothing can carry the planting
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WordRoles.derive(
                set("france", new PromptSet.Prompt("The river has a view.", "landmarks")), neutral, japan));
        assertTrue(e.getMessage().contains("The river has a view."), e.getMessage());
    }

    private static PromptSet set(String name, PromptSet.Prompt... prompts) {
        return new PromptSet(name, List.of(prompts), 0, List.of());
    }

    @Test
    void wordsSpreadOverFacetsArePlantedWithoutAFacet() {
        WordRoles.Role french = model.roles().role("French");
        assertEquals(WordRoles.Kind.FRANCE, french.kind());
        assertNull(french.facet(), "'French' occurs in every facet, so it must not boost one");
        assertEquals(WordRoles.Kind.NEUTRAL, model.roles().role("the").kind());
    }

    @Test
    void filesOnDiskHoldTheModelTheSaesAndTheGroundTruth() throws Exception {
        assertTrue(Files.size(files.model()) < 40L << 20, "model.gguf is " + Files.size(files.model()) + " bytes");
        try (GgufFile gguf = GgufFile.open(files.model())) {
            assertEquals(12 + 2, gguf.requireGemma2().nLayer());
            assertArrayEquals(model.weights().tokenEmbd(), gguf.readF32(gguf.requireTensor("token_embd.weight")));
            assertArrayEquals(model.weights().layers().get(5).postFfwNorm(), gguf.readF32(gguf.requireTensor("blk.5.post_ffw_norm.weight")));
        }
        PlantedFrance.Directions d = model.directions();
        List<float[]> all = d.all();
        for (int a = 0; a < all.size(); a++) {
            for (int b = 0; b <= a; b++) assertEquals(a == b ? 1.0 : 0.0, PlantedFrance.cosine(all.get(a), all.get(b)), 1e-5);
        }
        try (Sae coarse = Sae.loadGemmaScopeNpz(files.coarseSae(), PlantedFrance.coarseConfig());
             Sae fine = Sae.loadGemmaScopeNpz(files.fineSae(), PlantedFrance.fineConfig())) {
            assertEquals(12, coarse.cfg().hookLayer());
            assertArrayEquals(d.france(), coarse.decoderRow(PlantedFrance.COARSE_FRANCE), 1e-6f);
            assertEquals(0.0, PlantedFrance.cosine(fine.decoderRow(PlantedFrance.FINE_CO_OCCURRING), d.france()), 1e-6);
            assertEquals(0.5, PlantedFrance.cosine(fine.decoderRow(PlantedFrance.FINE_GEOMETRIC), d.france()), 1e-5);
        }
        JsonNode json = new ObjectMapper().readTree(files.groundTruth().toFile());
        assertEquals("GO", json.get("expectedVerdict").asText());
        assertEquals(PlantedFrance.COARSE_FRANCE, json.get("coarse").get("franceFeature").asInt());
        assertEquals(8, json.get("fine").get("facetFeatures").size());
        assertEquals(files.truth().fine().facetFeatures().get("sport"), json.get("fine").get("facetFeatures").get("sport").asInt());
        assertEquals(2, json.get("fine").get("decoys").size());
    }
}
