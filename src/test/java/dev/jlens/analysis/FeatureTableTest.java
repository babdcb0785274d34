package dev.jlens.analysis;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

class FeatureTableTest {

    @Test
    void storesOnlyFiredFeaturesWhateverTheDictionaryWidth() {
        FeatureTable t = new FeatureTable();
        // indices at both ends of a 262k dictionary; the explicit 0 value is not an activation
        t.add(new PromptActivations(10, Label.TARGET, "sport", new int[] {262_143, 5, 77}, new float[] {1.5f, 2f, 0f}));
        t.add(new PromptActivations(11, Label.CONTROL, null, new int[] {5}, new float[] {0.25f}));
        t.add(new PromptActivations(12, Label.TARGET, "cuisine", new int[] {}, new float[] {}));
        assertArrayEquals(new int[] {5, 262_143}, t.activeFeatures());
        assertEquals(2, t.activeFeatureCount());
        assertEquals(3, t.activationCount());
        assertFalse(t.isActive(77));
        assertArrayEquals(new double[] {2, 0.25, 0}, t.values(5), 0);
        assertArrayEquals(new double[] {1.5, 0, 0}, t.values(262_143), 0);
        assertArrayEquals(new double[] {0, 0, 0}, t.values(77), 0);
        assertArrayEquals(new int[] {0, 1}, t.firedRows(5));
        assertArrayEquals(new float[] {2f, 0.25f}, t.firedValues(5), 0f);
        assertEquals(2, t.fireCount(5));
    }

    @Test
    void rowsKeepArrivalOrderLabelsAndFacets() {
        FeatureTable t = new FeatureTable();
        t.add(new PromptActivations(7, Label.CONTROL, "neutral", new int[] {1}, new float[] {1}));
        t.add(new PromptActivations(3, Label.TARGET, "sport", new int[] {1}, new float[] {1}));
        t.add(new PromptActivations(4, Label.TARGET, "cuisine", new int[] {1}, new float[] {1}));
        t.add(new PromptActivations(5, Label.TARGET, null, new int[] {1}, new float[] {1}));
        assertEquals(4, t.promptCount());
        assertEquals(3, t.targetCount());
        assertEquals(1, t.controlCount());
        assertEquals(7, t.promptIndex(0));
        assertEquals(Label.TARGET, t.label(1));
        assertNull(t.facet(3));
        // control facets and missing facets do not create target facets
        assertEquals(List.of("cuisine", "sport"), t.targetFacets());
    }

    @Test
    void columnsGrowPastTheirInitialCapacity() {
        FeatureTable t = new FeatureTable();
        for (int i = 0; i < 2305; i++) {
            t.add(new PromptActivations(i, i % 2 == 0 ? Label.TARGET : Label.CONTROL, null, new int[] {9}, new float[] {i + 1}));
        }
        double[] v = t.values(9);
        for (int i = 0; i < v.length; i++) assertEquals(i + 1, v[i], 0);
        assertEquals(2305, t.fireCount(9));
    }
}
