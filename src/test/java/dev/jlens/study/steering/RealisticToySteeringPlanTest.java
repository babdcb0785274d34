package dev.jlens.study.steering;

import dev.jlens.study.ConceptExperiment;
import dev.jlens.study.ExperimentConfig;
import dev.jlens.study.ExperimentResult;
import dev.jlens.toy.ToyDefault;
import dev.jlens.toy.planted.GroundTruth;
import dev.jlens.toy.planted.PlantedFrance;
import dev.jlens.util.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On the realistic toy the France verdict's matches are near-duplicates of the anchor, which name no facet; the
 * steering plan then targets the anchor's strongest facet-split feature, a planted facet feature with its facet, and
 * keeps the near-duplicates as the matched fine features (real llama.cpp capture, the whole France study).
 */
class RealisticToySteeringPlanTest {
    @TempDir Path tmp;

    @Test
    void thePlanTargetsAFacetFeatureWhenTheMatchesNameNoFacet() throws IOException {
        PlantedFrance.Generated g = PlantedFrance.generate(tmp.resolve("toy"), true, ToyDefault.SEED, PlantedFrance.Variant.REALISTIC);
        GroundTruth truth = g.truth();
        ExperimentConfig cfg = new ExperimentConfig(g.model(), g.coarseSae().toString(), g.fineSae().toString(), tmp.resolve("run"),
                dev.jlens.api.Experiment.Settings.builder().permutations(100).threads(1).cacheDir(tmp.resolve("cache")).build());
        ExperimentResult r = ConceptExperiment.run(cfg, Progress.NONE).result();
        SteeringPlan p = SteeringPlan.fromResults(r);
        assertEquals(truth.coarse().franceFeature(), p.anchor());
        for (int d : truth.fine().nearDuplicates()) assertTrue(p.matchedFines().containsKey(d), "near-duplicate " + d + ": " + p.matchedFines());
        String facet = null;
        for (Map.Entry<String, Integer> e : truth.fine().facetFeatures().entrySet()) if (e.getValue() == p.targetFine()) facet = e.getKey();
        assertTrue(facet != null, "the target " + p.targetFine() + " is a planted facet feature: " + truth.fine().facetFeatures());
        assertEquals(facet, p.targetFacet());
        assertTrue(Lexicon.builtin().facets().containsKey(p.targetFacet()), "the steering study has a lexicon for " + p.targetFacet());
        assertTrue(p.typical().fine().get(p.targetFine()) > 5, "typical activation of the target: its mean when firing, " + p.typical());
    }
}
