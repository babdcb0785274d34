package dev.jlens.analysis;

import java.util.Objects;

/**
 * PCA of a few hundred decoder directions down to 3D, for a point cloud.
 *
 * <p>With n points in d = 2304 dimensions and n &lt;&lt; d, we never form the d x d covariance: we centre
 * the points, build the n x n Gram matrix G = Xc Xc^T, and diagonalise it with cyclic Jacobi rotations
 * (robust for repeated eigenvalues, unlike plain power iteration). If G = U Λ U^T then Xc = U S V^T with
 * S = sqrt(Λ), so the coordinates on component k are sqrt(λ_k) u_k and the axis is v_k = Xc^T u_k / sqrt(λ_k).
 *
 * <p>Sign convention (deterministic): each component is flipped so that the coordinate of largest
 * magnitude is positive (ties: the lowest point index). Components beyond the data's rank get all-zero
 * coordinates, a zero axis and a ratio of 0.
 */
public final class Pca3 {
    private static final System.Logger LOG = System.getLogger(Pca3.class.getName());
    private static final int MAX_SWEEPS = 60;

    private Pca3() {}

    /**
     * @param coordinates n x 3 coordinates of the centred points on the first three principal axes
     * @param explainedVarianceRatio fraction of total variance on each of the three axes
     * @param axes 3 x d unit principal axes in the input space (zero rows beyond the rank)
     * @param mean the centre that was subtracted (length d)
     */
    public record Result(double[][] coordinates, double[] explainedVarianceRatio, double[][] axes, double[] mean) {}

    /** Projects {@code points} (n rows of equal length d, finite) to 3D. */
    public static Result fit(float[][] points) {
        Objects.requireNonNull(points, "points");
        double[][] p = new double[points.length][];
        for (int i = 0; i < points.length; i++) {
            Objects.requireNonNull(points[i], "points[" + i + "]");
            p[i] = new double[points[i].length];
            for (int k = 0; k < p[i].length; k++) p[i][k] = points[i][k];
        }
        return fit(p);
    }

    /** Projects {@code points} (n rows of equal length d, finite) to 3D. */
    public static Result fit(double[][] points) {
        Objects.requireNonNull(points, "points");
        int n = points.length;
        if (n == 0) throw new IllegalArgumentException("PCA needs at least one point");
        int d = points[0].length;
        if (d == 0) throw new IllegalArgumentException("points have dimension 0");
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) {
            if (points[i].length != d) {
                throw new IllegalArgumentException("point " + i + " has dimension " + points[i].length + ", expected " + d);
            }
            for (int k = 0; k < d; k++) {
                double v = points[i][k];
                if (!Double.isFinite(v)) throw new IllegalArgumentException("point " + i + "[" + k + "] = " + v);
                mean[k] += v;
            }
        }
        for (int k = 0; k < d; k++) mean[k] /= n;
        double[][] xc = new double[n][d];
        for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) xc[i][k] = points[i][k] - mean[k];

        double[][] g = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double s = 0;
                double[] a = xc[i], b = xc[j];
                for (int k = 0; k < d; k++) s += a[k] * b[k];
                g[i][j] = s;
                g[j][i] = s;
            }
        }
        double total = 0;
        for (int i = 0; i < n; i++) total += g[i][i];

        double[][] vecs = new double[n][n]; // columns are eigenvectors
        double[] vals = jacobi(g, vecs).values();
        // the top three eigenvalues, descending (ties: lower column index first)
        int[] top = new int[Math.min(3, n)];
        boolean[] used = new boolean[n];
        for (int t = 0; t < top.length; t++) {
            int best = -1;
            for (int c = 0; c < n; c++) if (!used[c] && (best < 0 || vals[c] > vals[best])) best = c;
            used[best] = true;
            top[t] = best;
        }

        double[][] coords = new double[n][3];
        double[] ratio = new double[3];
        double[][] axes = new double[3][d];
        // eigenvalues below this are rounding noise of a rank-deficient Gram matrix
        double noise = 1e-12 * Math.max(total, Double.MIN_NORMAL) * n;
        for (int t = 0; t < top.length; t++) {
            int c = top[t];
            double lambda = vals[c];
            if (!(lambda > noise)) continue;
            int argMax = 0;
            for (int i = 1; i < n; i++) if (Math.abs(vecs[i][c]) > Math.abs(vecs[argMax][c])) argMax = i;
            double sign = vecs[argMax][c] < 0 ? -1.0 : 1.0;
            double s = Math.sqrt(lambda);
            for (int i = 0; i < n; i++) coords[i][t] = sign * s * vecs[i][c];
            for (int i = 0; i < n; i++) {
                double w = sign * vecs[i][c] / s;
                for (int k = 0; k < d; k++) axes[t][k] += w * xc[i][k];
            }
            ratio[t] = lambda / total;
        }
        return new Result(coords, ratio, axes, mean);
    }

    /** Eigenvalues (unsorted, matching the eigenvector columns) and how the iteration ended. */
    record Eigen(double[] values, int sweeps, boolean converged) {}

    /**
     * Cyclic Jacobi eigen-decomposition of symmetric {@code a} (destroyed). Writes eigenvectors as the
     * columns of {@code v}, returns the eigenvalues. Stops when the off-diagonal mass is negligible.
     */
    static Eigen jacobi(double[][] a, double[][] v) {
        int n = a.length;
        for (int i = 0; i < n; i++) { java.util.Arrays.fill(v[i], 0.0); v[i][i] = 1.0; }
        double frob = 0;
        for (double[] row : a) for (double x : row) frob += x * x;
        boolean converged = false;
        int sweeps = MAX_SWEEPS;
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += a[p][q] * a[p][q];
            // relative off-diagonal mass 1e-26 bounds eigenvalue errors near 1e-13 of the matrix norm;
            // asking for less would chase rounding noise (about n^2 eps^2) on a few hundred points
            if (off <= 1e-26 * frob) { converged = true; sweeps = sweep; break; }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = a[p][q];
                    if (apq == 0) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * apq);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        if (!converged) {
            LOG.log(System.Logger.Level.WARNING, "Jacobi did not converge in {0} sweeps on a {1}x{1} Gram matrix;"
                    + " using the current diagonal", MAX_SWEEPS, n);
        }
        double[] vals = new double[n];
        for (int i = 0; i < n; i++) vals[i] = a[i][i];
        return new Eigen(vals, sweeps, converged);
    }
}
