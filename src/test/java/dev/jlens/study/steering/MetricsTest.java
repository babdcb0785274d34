package dev.jlens.study.steering;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class MetricsTest {
    @Test
    void uniformLogitsGivePerplexityEqualToTheVocabularySize() {
        float[][] logits = new float[4][50];
        assertEquals(50, Metrics.perplexity(logits, new int[] {1, 2, 3, 4}, 1), 1e-9);
    }

    @Test
    void perplexityIsExpOfMeanNegativeLogProbOfTheScoredTokensOnly() {
        float[][] logits = {{0, 0}, {(float) Math.log(3), 0}, {0, 0}};
        // token 0 after row 1 has p = 3/4; token 1 after row 0 would have p = 1/2 but position 1 is prompt, not scored
        double ppl = Metrics.perplexity(logits, new int[] {0, 1, 0}, 2);
        assertEquals(4.0 / 3, ppl, 1e-6);
        assertThrows(IllegalArgumentException.class, () -> Metrics.perplexity(logits, new int[] {0, 1, 0}, 3));
        assertThrows(IllegalArgumentException.class, () -> Metrics.perplexity(logits, new int[] {0, 1}, 1));
    }

    @Test
    void logSoftmaxStaysFiniteForHugeLogits() {
        float[] l = {1e30f, 0f, -1e30f};
        assertEquals(0.0, Metrics.logSoftmax(l, 0), 1e-12);
        assertEquals(-1e30, Metrics.logSoftmax(l, 1), 1e24);
        assertEquals(1.0, Metrics.probabilityMass(l, new int[] {0}), 1e-12);
    }

    @Test
    void repetitionCountsBigramsSeenBefore() {
        assertEquals(0.6, Metrics.repetitionRate(new int[] {1, 2, 1, 2, 1, 2}, 2), 1e-12);
        assertEquals(0.0, Metrics.repetitionRate(new int[] {1, 2, 3, 4}, 2), 1e-12);
        assertEquals(0.0, Metrics.repetitionRate(new int[] {7}, 2), 1e-12);
        assertEquals(0.75, Metrics.repetitionRate(new int[] {5, 5, 5, 5}, 1), 1e-12);
    }

    @Test
    void bootstrapIsSeededBracketsTheMeanAndNarrowsWithMoreData() {
        double[] xs = new double[40];
        for (int i = 0; i < xs.length; i++) xs[i] = (i * 37 % 11) / 10.0;
        Metrics.Estimate a = Metrics.bootstrap(xs, 500, 7), b = Metrics.bootstrap(xs, 500, 7);
        assertEquals(a, b);
        assertTrue(a.ciLow() < a.mean() && a.mean() < a.ciHigh(), a.toString());
        double[] more = new double[400];
        for (int i = 0; i < more.length; i++) more[i] = xs[i % xs.length];
        Metrics.Estimate c = Metrics.bootstrap(more, 500, 7);
        assertTrue(c.ciHigh() - c.ciLow() < a.ciHigh() - a.ciLow());
        assertEquals(0, Metrics.bootstrap(new double[0], 10, 1).n());
        assertThrows(IllegalArgumentException.class, () -> Metrics.bootstrap(new double[] {1, Double.NaN}, 10, 1));
    }
}
