package dev.jlens.analysis;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Pca3Test {

    @Test
    void handExampleGivesAxisVariancesAndSignedCoordinates() {
        // points (3,0), (-1,2), (-1,-1), (-1,-1): mean (0,0); Σx² = 12, Σy² = 6, Σxy = 0 - 2 + 1 + 1 = 0
        // so the axes are x (λ = 12) and y (λ = 6): ratios 12/18, 6/18, 0; coordinates are the x and y values,
        // signed so the largest-magnitude one is positive (3 on axis 1, 2 on axis 2)
        Pca3.Result r = Pca3.fit(new double[][] {{3, 0}, {-1, 2}, {-1, -1}, {-1, -1}});
        assertArrayEquals(new double[] {2.0 / 3, 1.0 / 3, 0}, r.explainedVarianceRatio(), 1e-12);
        double[][] expected = {{3, 0, 0}, {-1, 2, 0}, {-1, -1, 0}, {-1, -1, 0}};
        for (int i = 0; i < 4; i++) assertArrayEquals(expected[i], r.coordinates()[i], 1e-12);
        assertArrayEquals(new double[] {1, 0}, r.axes()[0], 1e-12);
        assertArrayEquals(new double[] {0, 1}, r.axes()[1], 1e-12);
    }

    @Test
    void pointsOnA3dSubspaceAreFullyExplainedAndKeepTheirDistances() {
        int n = 200, d = 2304;
        SplittableRandom rng = new SplittableRandom(5);
        // orthonormal u0, u1, u2 by Gram-Schmidt of random vectors
        double[][] u = new double[3][d];
        for (int k = 0; k < 3; k++) {
            for (int j = 0; j < d; j++) u[k][j] = rng.nextGaussian();
            for (int m = 0; m < k; m++) {
                double dot = 0;
                for (int j = 0; j < d; j++) dot += u[k][j] * u[m][j];
                for (int j = 0; j < d; j++) u[k][j] -= dot * u[m][j];
            }
            double norm = 0;
            for (int j = 0; j < d; j++) norm += u[k][j] * u[k][j];
            norm = Math.sqrt(norm);
            for (int j = 0; j < d; j++) u[k][j] /= norm;
        }
        double[] offset = new double[d];
        for (int j = 0; j < d; j++) offset[j] = rng.nextGaussian();
        double[][] pts = new double[n][d];
        for (int i = 0; i < n; i++) {
            double a = 3 * rng.nextGaussian(), b = 2 * rng.nextGaussian(), c = rng.nextGaussian();
            for (int j = 0; j < d; j++) pts[i][j] = offset[j] + a * u[0][j] + b * u[1][j] + c * u[2][j];
        }
        Pca3.Result r = Pca3.fit(pts);
        double[] ratio = r.explainedVarianceRatio();
        assertEquals(1.0, ratio[0] + ratio[1] + ratio[2], 1e-9);
        assertTrue(ratio[0] >= ratio[1] && ratio[1] >= ratio[2], "ratios descend");
        for (int i = 0; i < n; i += 7) {
            for (int k = i + 1; k < n; k += 11) {
                double orig = 0, proj = 0;
                for (int j = 0; j < d; j++) orig += (pts[i][j] - pts[k][j]) * (pts[i][j] - pts[k][j]);
                for (int t = 0; t < 3; t++) {
                    double diff = r.coordinates()[i][t] - r.coordinates()[k][t];
                    proj += diff * diff;
                }
                assertEquals(Math.sqrt(orig), Math.sqrt(proj), 1e-8 * (1 + Math.sqrt(orig)));
            }
        }
        for (int t = 0; t < 3; t++) {
            double norm = 0;
            for (double x : r.axes()[t]) norm += x * x;
            assertEquals(1.0, norm, 1e-9, "axis " + t + " is a unit vector");
        }
    }

    @Test
    void signConventionMakesLargestCoordinatePositiveAndIsRepeatable() {
        SplittableRandom rng = new SplittableRandom(17);
        float[][] pts = new float[13][7];
        for (float[] p : pts) for (int j = 0; j < p.length; j++) p[j] = (float) rng.nextGaussian();
        Pca3.Result a = Pca3.fit(pts), b = Pca3.fit(pts);
        for (int t = 0; t < 3; t++) {
            int arg = 0;
            for (int i = 1; i < pts.length; i++) {
                if (Math.abs(a.coordinates()[i][t]) > Math.abs(a.coordinates()[arg][t])) arg = i;
            }
            assertTrue(a.coordinates()[arg][t] > 0, "component " + t);
        }
        for (int i = 0; i < pts.length; i++) assertArrayEquals(a.coordinates()[i], b.coordinates()[i], 0);
    }

    @Test
    void rankDeficientInputGivesZeroComponentsNotNaN() {
        // collinear points: one component carries everything
        Pca3.Result r = Pca3.fit(new double[][] {{1, 2, 3}, {2, 4, 6}, {3, 6, 9}, {4, 8, 12}});
        assertEquals(1.0, r.explainedVarianceRatio()[0], 1e-12);
        assertEquals(0.0, r.explainedVarianceRatio()[1], 0);
        for (double[] c : r.coordinates()) {
            assertEquals(0.0, c[1], 0);
            assertEquals(0.0, c[2], 0);
        }
        Pca3.Result single = Pca3.fit(new double[][] {{1, 1}});
        assertArrayEquals(new double[] {0, 0, 0}, single.coordinates()[0], 0);
        assertArrayEquals(new double[] {0, 0, 0}, single.explainedVarianceRatio(), 0);
    }

    @Test
    void jacobiFindsHandEigenpairsAndConverges() {
        // [[2,1,0],[1,2,0],[0,0,5]]: the 2x2 block has eigenvalues 2 ± 1 with vectors (1,±1)/√2, plus 5 on e2
        double[][] a = {{2, 1, 0}, {1, 2, 0}, {0, 0, 5}};
        double[][] v = new double[3][3];
        Pca3.Eigen e = Pca3.jacobi(a, v);
        assertTrue(e.converged());
        double[] sorted = e.values().clone();
        java.util.Arrays.sort(sorted);
        assertArrayEquals(new double[] {1, 3, 5}, sorted, 1e-14);
        double[][] m = {{2, 1, 0}, {1, 2, 0}, {0, 0, 5}};
        for (int c = 0; c < 3; c++) {
            for (int r = 0; r < 3; r++) {
                double mv = m[r][0] * v[0][c] + m[r][1] * v[1][c] + m[r][2] * v[2][c];
                assertEquals(e.values()[c] * v[r][c], mv, 1e-14, "A v = lambda v, column " + c);
            }
        }
    }

    @Test
    void jacobiConvergesOnAFullSizeGramMatrix() {
        SplittableRandom rng = new SplittableRandom(23);
        int n = 120;
        double[][] x = new double[n][64];
        for (double[] row : x) for (int k = 0; k < row.length; k++) row[k] = rng.nextGaussian();
        double[][] g = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < 64; k++) s += x[i][k] * x[j][k];
            g[i][j] = s;
        }
        Pca3.Eigen e = Pca3.jacobi(g, new double[n][n]);
        assertTrue(e.converged(), "stopping rule must be reachable in double precision");
        assertTrue(e.sweeps() < 20, "sweeps " + e.sweeps());
    }

    @Test
    void raggedOrNonFiniteInputIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Pca3.fit(new double[][] {{1, 2}, {1}}));
        assertThrows(IllegalArgumentException.class, () -> Pca3.fit(new double[][] {{1, Double.NaN}}));
        assertThrows(IllegalArgumentException.class, () -> Pca3.fit(new double[0][]));
    }
}
