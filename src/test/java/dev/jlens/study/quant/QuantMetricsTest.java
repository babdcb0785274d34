package dev.jlens.study.quant;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The study's comparisons against values worked out by hand (and, for Spearman, scipy.stats.spearmanr's). */
class QuantMetricsTest {
    @Test
    void relativeL2() {
        assertEquals(0, QuantMetrics.relativeL2(new float[] {3, 4}, new float[] {3, 4}));
        assertEquals(1.0 / 5, QuantMetrics.relativeL2(new float[] {4, 4}, new float[] {3, 4}), 1e-12);
        assertEquals(Double.POSITIVE_INFINITY, QuantMetrics.relativeL2(new float[] {1, 0}, new float[] {0, 0}));
        assertEquals(0, QuantMetrics.relativeL2(new float[] {0, 0}, new float[] {0, 0}));
    }

    @Test
    void jaccard() {
        assertEquals(1, QuantMetrics.jaccard(new int[0], new int[0]));
        assertEquals(1, QuantMetrics.jaccard(new int[] {1, 5, 9}, new int[] {1, 5, 9}));
        assertEquals(2.0 / 4, QuantMetrics.jaccard(new int[] {1, 5, 9}, new int[] {1, 7, 9}));
        assertEquals(0, QuantMetrics.jaccard(new int[] {1}, new int[] {2}));
        assertEquals(0, QuantMetrics.jaccard(new int[] {}, new int[] {2}));
    }

    @Test
    void spearmanUsesAverageRanksForTies() {
        assertArrayEquals(new double[] {1.5, 1.5, 3, 4}, QuantMetrics.ranks(new double[] {2, 2, 5, 7}));
        assertEquals(1, QuantMetrics.spearman(new double[] {1, 2, 3, 4}, new double[] {10, 20, 30, 40}), 1e-12);
        assertEquals(-1, QuantMetrics.spearman(new double[] {1, 2, 3, 4}, new double[] {4, 3, 2, 1}), 1e-12);
        // scipy.stats.spearmanr([1, 2, 2, 3, 5], [2, 1, 3, 3, 4]).statistic = 0.7631578947368421
        assertEquals(0.7631578947368421, QuantMetrics.spearman(new double[] {1, 2, 2, 3, 5}, new double[] {2, 1, 3, 3, 4}), 1e-12);
        assertTrue(Double.isNaN(QuantMetrics.spearman(new double[] {1, 1, 1}, new double[] {1, 2, 3})));
    }
}
