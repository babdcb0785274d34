package dev.jlens.toy.planted;

import dev.jlens.analysis.CrossResolutionMap;
import dev.jlens.analysis.FacetSplit;
import dev.jlens.sae.Sae;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The realistic variant of the planted toy in pure Java (every 3rd France and neutral prompt, as
 * {@link PlantedFranceTest}): the near-duplicates of the coarse France feature match under the post's rule and give
 * GO; the facet-specific features do not match (their all-prompt correlation stays low), and the facet split finds
 * every one of them and names its facet.
 */
class RealisticPlantedFranceTest {
    @TempDir static Path tmp;
    static PlantedFrance.Model model;
    static PlantedFrance.Generated files;

    @BeforeAll
    static void generate() throws Exception {
        model = PlantedFrance.model(true, PlantedFranceTest.SEED);
        files = PlantedFrance.generate(tmp.resolve("realistic"), model, PlantedFrance.Variant.REALISTIC);
    }

    @Test
    void nearDuplicatesMatchAndFacetFeaturesAreFoundOnlyByTheFacetSplit() throws Exception {
        PlantedPipeline.Outcome o = PlantedPipeline.run(model, files, 3);
        GroundTruth gt = files.truth();
        int france = gt.coarse().franceFeature();
        assertTrue(gt.fine().facetSpecific());
        assertEquals(4, gt.fine().nearDuplicates().size());
        assertEquals(france, o.anchors().get(0).feature(), "the planted France feature ranks first: " + o.anchors());

        Map<Long, CrossResolutionMap.Pair> pairs = new HashMap<>();
        for (CrossResolutionMap.Pair p : o.map().pairs()) pairs.put(((long) p.anchor() << 32) | p.fine(), p);
        for (int d : gt.fine().nearDuplicates()) {
            CrossResolutionMap.Pair p = pairs.get(((long) france << 32) | d);
            assertNotNull(p, "near-duplicate " + d + " is among the top fine features");
            assertEquals(dev.jlens.api.Classification.MATCH, p.classification(), p.toString());
            assertEquals(PlantedFrance.NEAR_DUPLICATE_COS, p.cosine(), 1e-5);
            assertTrue(p.correlation() > 0.9, p.toString());
            System.out.printf("near-duplicate %d: correlation %.3f cosine %.3f%n", d, p.correlation(), p.cosine());
        }
        dev.jlens.api.Verdict v = o.map().verdict();
        assertEquals(dev.jlens.api.Decision.GO, v.decision(), v.reason());
        assertEquals(france, v.anchor());
        assertEquals(gt.fine().nearDuplicates().size(), v.matches(), "the near-duplicates, and only they, match: " + v.reason());

        FacetSplit.Options opts = FacetSplit.Options.defaults(CrossResolutionMap.Thresholds.DEFAULT.minCosine(), PlantedPipeline.MIN_MEAN_TARGET);
        int[] candidates = FacetSplit.candidates(o.fineStats(), o.fine().targetCount(), opts, PlantedPipeline.FINES);
        List<FacetSplit.Row> split;
        try (Sae coarse = Sae.loadGemmaScopeNpz(files.coarseSae(), PlantedFrance.coarseConfig());
             Sae fine = Sae.loadGemmaScopeNpz(files.fineSae(), PlantedFrance.fineConfig())) {
            split = FacetSplit.compute(new int[] {france}, candidates, o.coarse(), o.fine(), coarse::decoderRow, fine::decoderRow, opts);
        }
        Map<Integer, FacetSplit.Row> byFine = new HashMap<>();
        for (FacetSplit.Row r : split) byFine.put(r.fine(), r);
        for (Map.Entry<String, Integer> e : gt.fine().facetFeatures().entrySet()) {
            FacetSplit.Row r = byFine.get(e.getValue());
            assertNotNull(r, "facet feature " + e.getValue() + " (" + e.getKey() + ") is in the facet split: " + split);
            assertEquals(e.getKey(), r.facet(), r.toString());
            assertEquals(gt.facetCosines().get(e.getKey()), r.cosine(), 1e-5);
            assertTrue(r.facetShare() >= 0.8, r.toString());
            assertTrue(r.fireRateTarget() < 0.3 && r.fireRateControl() == 0, r.toString());
            // the post's rule cannot see it
            assertTrue(r.correlation() < CrossResolutionMap.Thresholds.DEFAULT.minCorrelation(), r.toString());
            CrossResolutionMap.Pair p = pairs.get(((long) france << 32) | e.getValue());
            if (p != null) assertNotEquals(dev.jlens.api.Classification.MATCH, p.classification(), p.toString());
            System.out.printf("facet %-16s %4d: fires on %.0f%% of France prompts (%.0f%% of them %s), mean when firing %.2f, cosine %.3f, "
                            + "correlation all %.3f, within France %.3f%n", e.getKey(), r.fine(), 100 * r.fireRateTarget(), 100 * r.facetShare(),
                    r.facet(), r.meanWhenFiring(), r.cosine(), r.correlation(), r.targetCorrelation());
        }
        for (int d : gt.fine().nearDuplicates()) assertTrue(!byFine.containsKey(d), "a near-duplicate fires on every France prompt, not a facet");
    }
}
