package dev.jlens.analysis;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FacetProfileTest {

    /**
     * Target prompts: cuisine x2, sport x2; control x2 (facet "neutral", ignored).
     * Feature 1: cuisine 4, 2 -> mean 3; sport 1, 0 -> mean 0.5; ratio 6 -> "cuisine" (control value 100 ignored).
     * Feature 2: cuisine 1, 1 -> 1; sport 1, 1.5 -> 1.25; ratio 1.25 < 1.5 -> "mixed".
     * Feature 3: fires on control only -> "none".
     */
    private static FeatureTable table() {
        FeatureTable t = new FeatureTable();
        t.add(new PromptActivations(0, Label.TARGET, "cuisine", new int[] {1, 2}, new float[] {4, 1}));
        t.add(new PromptActivations(1, Label.TARGET, "cuisine", new int[] {1, 2}, new float[] {2, 1}));
        t.add(new PromptActivations(2, Label.TARGET, "sport", new int[] {1, 2}, new float[] {1, 1}));
        t.add(new PromptActivations(3, Label.TARGET, "sport", new int[] {2}, new float[] {1.5f}));
        t.add(new PromptActivations(4, Label.CONTROL, "neutral", new int[] {1, 3}, new float[] {100, 2}));
        t.add(new PromptActivations(5, Label.CONTROL, "neutral", new int[] {3}, new float[] {1}));
        return t;
    }

    @Test
    void meansPerFacetAndDominantFacetIsNamed() {
        List<FacetProfile> profiles = FacetProfile.compute(table(), FacetProfile.DEFAULT_DOMINANCE);
        assertEquals(3, profiles.size());
        FacetProfile f1 = profiles.get(0);
        assertEquals(Map.of("cuisine", 3.0, "sport", 0.5), f1.meanByFacet());
        assertEquals(List.of("cuisine", "sport"), List.copyOf(f1.meanByFacet().keySet()));
        assertEquals("cuisine", f1.likelyFacet());
        assertEquals(6.0, f1.dominanceRatio(), 1e-15);
    }

    @Test
    void closeFacetsAreMixedAndControlOnlyFeatureIsNone() {
        List<FacetProfile> profiles = FacetProfile.compute(table(), 1.5);
        FacetProfile f2 = profiles.get(1);
        assertEquals(1.25, f2.meanByFacet().get("sport"), 1e-15);
        assertEquals(FacetProfile.MIXED, f2.likelyFacet());
        assertEquals(1.25, f2.dominanceRatio(), 1e-15);
        // a looser rule (ratio >= 1.2) names the facet
        assertEquals("sport", FacetProfile.compute(table(), 1.2).get(1).likelyFacet());
        FacetProfile f3 = profiles.get(2);
        assertEquals(FacetProfile.NONE, f3.likelyFacet());
        assertEquals(0.0, f3.meanByFacet().get("cuisine"), 0);
    }

    @Test
    void reservedFacetNamesAndBadRatiosAreRejected() {
        FeatureTable t = new FeatureTable();
        t.add(new PromptActivations(0, Label.TARGET, "mixed", new int[] {1}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> FacetProfile.compute(t, 1.5));
        assertThrows(IllegalArgumentException.class, () -> FacetProfile.compute(table(), 0.5));
    }
}
