package dev.jlens.analysis;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class StreamingPearsonTest {

    private static StreamingPearson of(double[] x, double[] y) {
        StreamingPearson p = new StreamingPearson();
        for (int i = 0; i < x.length; i++) p.add(x[i], y[i]);
        return p;
    }

    private static double twoPass(double[] x, double[] y) {
        double mx = 0, my = 0;
        for (int i = 0; i < x.length; i++) { mx += x[i]; my += y[i]; }
        mx /= x.length; my /= y.length;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }
        return sxy / Math.sqrt(sxx * syy);
    }

    @Test
    void handExampleGivesElevenOverRootOneThirty() {
        // x = 1,2,3,4 (mean 2.5), y = 2,4,5,9 (mean 5)
        // dx = -1.5,-0.5,0.5,1.5; dy = -3,-1,0,4
        // Σdxdy = 4.5 + 0.5 + 0 + 6 = 11; Σdx² = 5; Σdy² = 9 + 1 + 0 + 16 = 26
        // r = 11 / sqrt(5 * 26) = 11 / sqrt(130) = 0.9647638...
        StreamingPearson p = of(new double[] {1, 2, 3, 4}, new double[] {2, 4, 5, 9});
        assertEquals(11 / Math.sqrt(130), p.correlation(), 1e-15);
        assertEquals(0.96476382, p.correlation(), 1e-8);
    }

    @Test
    void matchesTwoPassFormulaEvenWithALargeSharedOffset() {
        SplittableRandom rng = new SplittableRandom(7);
        int n = 2305;
        double[] x = new double[n], y = new double[n], xs = new double[n], ys = new double[n];
        for (int i = 0; i < n; i++) {
            double u = rng.nextDouble(), v = rng.nextDouble();
            xs[i] = u;
            ys[i] = 0.6 * u + 0.4 * v;
            // a 1e8 offset destroys the raw-sum formula (n Σxy - Σx Σy) in double; co-moments survive it
            x[i] = 1e8 + xs[i];
            y[i] = 1e8 + ys[i];
        }
        double reference = twoPass(xs, ys);
        assertEquals(reference, of(x, y).correlation(), 1e-6);
        assertEquals(reference, of(xs, ys).correlation(), 1e-12);
    }

    @Test
    void zeroVarianceGivesZeroInsteadOfNaN() {
        assertEquals(0.0, of(new double[] {3, 3, 3}, new double[] {1, 2, 3}).correlation());
        assertEquals(0.0, of(new double[] {0, 0, 0}, new double[] {0, 0, 0}).correlation());
        assertEquals(0.0, of(new double[] {1}, new double[] {2}).correlation());
        assertEquals(0.0, new StreamingPearson().correlation());
    }

    @Test
    void perfectlyAntiCorrelatedIsMinusOneAndNeverBeyond() {
        double[] x = new double[13], y = new double[13];
        for (int i = 0; i < 13; i++) { x[i] = 0.1 * i; y[i] = 7 - 0.3 * i; }
        double r = of(x, y).correlation();
        assertEquals(-1.0, r, 1e-12);
        assertEquals(true, r >= -1.0);
    }

    @Test
    void mergingShardsEqualsOneStream() {
        SplittableRandom rng = new SplittableRandom(11);
        double[] x = new double[101], y = new double[101];
        for (int i = 0; i < x.length; i++) { x[i] = rng.nextDouble() * 5; y[i] = x[i] * x[i] + rng.nextDouble(); }
        StreamingPearson whole = of(x, y);
        StreamingPearson a = new StreamingPearson(), b = new StreamingPearson(), empty = new StreamingPearson();
        for (int i = 0; i < 37; i++) a.add(x[i], y[i]);
        for (int i = 37; i < x.length; i++) b.add(x[i], y[i]);
        a.merge(b);
        a.merge(empty);
        empty.merge(a);
        assertEquals(whole.count(), a.count());
        assertEquals(whole.correlation(), a.correlation(), 1e-12);
        assertEquals(whole.meanX(), a.meanX(), 1e-12);
        assertEquals(whole.correlation(), empty.correlation(), 1e-12);
        assertEquals(twoPass(x, y), whole.correlation(), 1e-12);
    }
}
