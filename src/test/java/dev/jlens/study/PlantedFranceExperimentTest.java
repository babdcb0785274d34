package dev.jlens.study;

import dev.jlens.toy.ToyDefault;
import dev.jlens.util.Json;
import dev.jlens.util.Progress;

import dev.jlens.toy.planted.GroundTruth;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The France experiment on the embedded planted toy, through the real llama.cpp capture, must recover what
 * was planted (ground_truth.json), and say NO-GO when the planting is removed.
 */
class PlantedFranceExperimentTest {
    @TempDir Path tmp;

    static ExperimentConfig config(ToyDefault.Files f, Path out, Path cache) {
        return new ExperimentConfig(f.model(), f.coarseId(), f.fineId(), out,
                dev.jlens.api.Experiment.Settings.builder().threads(2).cacheDir(cache).build());
    }

    @Test
    void experimentRecoversThePlantedGroundTruth() throws IOException {
        ToyDefault.Files f = ToyDefault.ensure(true, dev.jlens.toy.planted.PlantedFrance.Variant.CLASSIC, null); // the facet features that match
        GroundTruth truth = Json.MAPPER.readValue(f.groundTruth().toFile(), GroundTruth.class);
        List<String> loads = new java.util.concurrent.CopyOnWriteArrayList<>();
        ExperimentResult r;
        try (var counter = SaeLoads.count(loads)) {
            r = ConceptExperiment.run(config(f, tmp.resolve("run"), tmp.resolve("cache")), Progress.NONE).result();
        }
        // issue 15: each SAE is opened and fully validated once per run (it was twice: encode, then contrast)
        assertEquals(2, loads.size(), "SAE loads in one run: " + loads);
        assertTrue(loads.stream().anyMatch(l -> l.contains("coarse")) && loads.stream().anyMatch(l -> l.contains("fine")), loads.toString());

        int france = truth.coarse().franceFeature();
        assertEquals(france, r.coarse().topBySelectivity().get(0).feature(), "the planted France feature ranks first by selectivity");
        // significance that means something: Mann-Whitney p over 200 vs 200 prompts, BH over every active feature
        dev.jlens.api.FeatureStats top = r.coarse().topBySelectivity().get(0);
        ExperimentResult.Significance sig = r.coarse().significance();
        System.out.printf("planted France feature %d: p %.3g, q %.3g (permutation check p %.3g); %d tested, smallest reachable p %.3g, "
                + "q %.3g for a lone feature; %d significant, %d confirmed by permutations%n", france, top.pValue(), top.qValue(),
                top.permutationPValue(), sig.tested(), sig.smallestP(), sig.smallestQ(), sig.significant(), sig.confirmedByPermutation());
        assertTrue(top.qValue() < 1e-6, "q of the planted France feature: " + top.qValue());
        assertTrue(top.permutationPValue() <= 2.0 / 1001, "the permutation check agrees: " + top.permutationPValue());
        assertEquals(r.coarse().activeFeatures(), sig.tested());
        assertTrue(sig.smallestQ() < 1e-6 && sig.smallestP() <= top.pValue());
        for (dev.jlens.api.FeatureStats facet : r.fine().topBySelectivity()) {
            if (truth.fine().facetFeatures().containsValue(facet.feature())) {
                assertTrue(facet.qValue() < 1e-6, "facet feature " + facet.feature() + ": q " + facet.qValue());
            }
        }
        assertEquals(new dev.jlens.activations.Numerics("f32", false, "F32"), r.config().numerics(), "the default numerics are recorded");
        // what each SAE was trained on, beside its hash (issue 16): the toy's SAEs are JumpReLU SAEs of the toy's layer-12 residual
        for (ExperimentResult.SaeInfo sae : List.of(r.config().coarseSae(), r.config().fineSae())) {
            assertEquals("jumprelu", sae.architecture(), sae.toString());
            assertEquals("blocks.12.hook_resid_post", sae.hookName(), sae.toString());
            assertEquals("jlens-toy-gemma2", sae.modelName(), sae.toString());
            assertEquals("MATCH", sae.modelMatch(), "the toy GGUF's general.name is the SAEs' model_name: " + sae);
        }
        assertTrue(Files.readString(tmp.resolve("run").resolve("report.html")).contains("the smallest reachable q is"));
        assertEquals(dev.jlens.api.Decision.GO, r.verdict().decision(), r.verdict().reason());
        assertEquals(france, r.verdict().anchor());

        Map<Long, dev.jlens.api.FeaturePair> pairs = new java.util.HashMap<>();
        for (dev.jlens.api.FeaturePair p : r.crossmap().pairs()) pairs.put(((long) p.anchor() << 32) | p.fine(), p);
        Map<Integer, dev.jlens.api.FeatureStats> fine = new java.util.HashMap<>();
        r.fine().topBySelectivity().forEach(x -> fine.put(x.feature(), x));
        for (var e : truth.fine().facetFeatures().entrySet()) {
            dev.jlens.api.FeaturePair p = pairs.get(((long) france << 32) | e.getValue());
            assertNotNull(p, "facet feature " + e.getValue() + " (" + e.getKey() + ") is among the mapped fine features");
            assertEquals(dev.jlens.api.Classification.MATCH, p.classification(), e.getKey() + ": correlation " + p.correlation() + ", cosine " + p.cosine());
            assertTrue(p.cosine() > 0.3 && p.correlation() > 0.5);
            assertEquals(e.getKey(), fine.get(e.getValue()).likelyFacet(), "facet of fine feature " + e.getValue());
            System.out.printf("facet %-16s fine %5d: correlation %.3f cosine %.3f%n", e.getKey(), e.getValue(), p.correlation(), p.cosine());
        }
        for (GroundTruth.Decoy d : truth.fine().decoys()) {
            dev.jlens.api.FeaturePair p = pairs.get(((long) france << 32) | d.feature());
            assertNotNull(p, "decoy " + d.feature() + " is among the mapped fine features");
            assertEquals(d.kind(), p.classification().name(), "decoy " + d.feature() + ": correlation " + p.correlation() + ", cosine " + p.cosine());
            System.out.printf("decoy %-14s fine %5d: correlation %.3f cosine %.3f%n", d.kind(), d.feature(), p.correlation(), p.cosine());
        }
        for (String out : new String[] {"results.json", "features_coarse.csv", "features_fine.csv", "pairs.csv", "report.html", "heatmap.png", "scatter.png"}) {
            assertTrue(Files.size(tmp.resolve("run").resolve(out)) > 0, out);
        }
    }

    @Test
    void withThePlantedStructureRemovedTheVerdictIsNoGo() throws IOException {
        ToyDefault.Files f = ToyDefault.ensure(false, null);
        List<String> loads = new java.util.concurrent.CopyOnWriteArrayList<>();
        ExperimentResult r;
        try (var counter = SaeLoads.count(loads)) {
            r = ConceptExperiment.run(config(f, tmp.resolve("run"), tmp.resolve("cache")), Progress.NONE).result();
        }
        // issue 15: each SAE is opened and fully validated once per run (it was twice: encode, then contrast)
        assertEquals(2, loads.size(), "SAE loads in one run: " + loads);
        assertTrue(loads.stream().anyMatch(l -> l.contains("coarse")) && loads.stream().anyMatch(l -> l.contains("fine")), loads.toString());
        assertEquals(dev.jlens.api.Decision.NO_GO, r.verdict().decision(), r.verdict().reason());
    }
}
