package dev.jlens.study;

import dev.jlens.toy.ToyDefault;
import dev.jlens.util.Progress;

import dev.jlens.toy.planted.GroundTruth;
import dev.jlens.toy.planted.PlantedFrance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The France experiment through the real llama.cpp capture on the realistic planted toy (near-duplicates of the coarse
 * France feature, facet features that fire only on their facet): the verdict keeps the post's rule and says GO on the
 * near-duplicates, and results.json, facet_split.csv and the report list every facet feature under the France anchor
 * with its facet named, where the rule's all-prompt correlation cannot see it.
 */
class RealisticToyExperimentTest {
    @TempDir Path tmp;

    @Test
    void theStudyFindsTheNearDuplicatesAndNamesEveryFacetFeature() throws IOException {
        PlantedFrance.Generated g = PlantedFrance.generate(tmp.resolve("toy"), true, ToyDefault.SEED, PlantedFrance.Variant.REALISTIC);
        GroundTruth truth = g.truth();
        Path out = tmp.resolve("run");
        ExperimentConfig cfg = new ExperimentConfig(g.model(), g.coarseSae().toString(), g.fineSae().toString(), out,
                dev.jlens.api.Experiment.Settings.builder().permutations(200).threads(2).cacheDir(tmp.resolve("cache")).build());
        ExperimentResult r = ConceptExperiment.run(cfg, Progress.NONE).result();
        int france = truth.coarse().franceFeature();
        assertEquals(dev.jlens.api.Decision.GO, r.verdict().decision(), r.verdict().reason());
        assertEquals(france, r.verdict().anchor());

        Map<Integer, dev.jlens.api.FeaturePair> pairs = new HashMap<>();
        for (dev.jlens.api.FeaturePair p : r.crossmap().pairs()) if (p.anchor() == france) pairs.put(p.fine(), p);
        for (int d : truth.fine().nearDuplicates()) {
            dev.jlens.api.FeaturePair p = pairs.get(d);
            assertNotNull(p, "near-duplicate " + d + " is mapped");
            assertEquals(dev.jlens.api.Classification.MATCH, p.classification(), p.toString());
            assertEquals(PlantedFrance.NEAR_DUPLICATE_COS, p.cosine(), 1e-5);
            assertTrue(p.correlation() > 0.9 && p.targetCorrelation() > 0, p.toString());
            System.out.printf("near-duplicate %d: correlation %.3f (within France %.3f), cosine %.3f%n", d, p.correlation(),
                    p.targetCorrelation(), p.cosine());
        }

        Map<Integer, ExperimentResult.FacetSplitRow> split = new HashMap<>();
        for (ExperimentResult.FacetSplitRow s : r.crossmap().facetSplit()) if (s.anchor() == france) split.put(s.fine(), s);
        Map<Integer, dev.jlens.api.FeatureStats> fine = new HashMap<>();
        r.fine().topBySelectivity().forEach(f -> fine.put(f.feature(), f));
        for (Map.Entry<String, Integer> e : truth.fine().facetFeatures().entrySet()) {
            ExperimentResult.FacetSplitRow s = split.get(e.getValue());
            assertNotNull(s, "facet feature " + e.getValue() + " (" + e.getKey() + ") is in the facet split of the France anchor");
            assertEquals(e.getKey(), s.facet(), s.toString());
            assertTrue(s.facetShare() >= 0.8 && s.fireRateTarget() < 0.3, s.toString());
            assertEquals(truth.facetCosines().get(e.getKey()), s.cosine(), 1e-5);
            assertTrue(s.correlation() < 0.5, "the post's rule cannot see it: " + s);
            dev.jlens.api.FeaturePair p = pairs.get(e.getValue());
            if (p != null) assertNotEquals(dev.jlens.api.Classification.MATCH, p.classification(), p.toString());
            dev.jlens.api.FeatureStats f = fine.get(e.getValue());
            if (f != null) {
                assertEquals(f.meanTarget() / f.fireRateTarget(), f.meanTargetWhenFiring(), 1e-9);
                assertTrue(f.meanTargetWhenFiring() > 5 * f.meanTarget(), "the conditional mean shows its real strength: " + f);
            }
            System.out.printf("facet %-16s %4d: %s %.0f%%, fires on %.0f%% of France prompts, mean when firing %.2f, cosine %.3f, "
                            + "correlation %.3f (within France %.3f)%n", e.getKey(), s.fine(), s.facet(), 100 * s.facetShare(),
                    100 * s.fireRateTarget(), s.meanWhenFiring(), s.cosine(), s.correlation(), s.targetCorrelation());
        }
        List<String> csv = Files.readAllLines(out.resolve("facet_split.csv"));
        assertEquals("anchor,fine,facet,facet_share,facet_coverage,fire_rate_target,fire_rate_control,mean_when_firing,cosine,correlation,"
                + "target_correlation", csv.get(0));
        assertEquals(r.crossmap().facetSplit().size() + 1, csv.size());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("id=\"facet-split\""), "the report has the facet split section");
        for (String facet : truth.fine().facetFeatures().keySet()) assertTrue(html.contains("<td>" + facet + "</td>"), facet);
    }
}
