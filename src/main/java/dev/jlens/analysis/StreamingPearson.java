package dev.jlens.analysis;

/**
 * Pearson correlation of a pair of variables observed one sample at a time, mergeable across shards.
 *
 * <p>Uses Welford / co-moment updates (means and centred second moments) rather than raw sums
 * Σx, Σx², Σxy: the raw-sum form {@code n Σxy - Σx Σy} cancels catastrophically when values share a large
 * offset, the centred form does not. Merging follows Chan et al.'s pairwise combination.
 *
 * <p>A variable with zero variance (including fewer than two samples) has no defined correlation; we
 * return 0 for it — "no linear relationship detectable" — so a never-varying feature can never leak NaN.
 */
public final class StreamingPearson {
    private long n;
    private double meanX;
    private double meanY;
    private double m2x;
    private double m2y;
    private double cxy;

    /** Adds one observation; both values must be finite. */
    public void add(double x, double y) {
        if (!Double.isFinite(x) || !Double.isFinite(y)) {
            throw new IllegalArgumentException("non-finite observation (" + x + ", " + y + ")");
        }
        n++;
        double dx = x - meanX;
        meanX += dx / n;
        double dy = y - meanY;
        meanY += dy / n;
        // dx uses the old mean, (y - meanY) the new one: this product is the exact co-moment increment
        m2x += dx * (x - meanX);
        m2y += dy * (y - meanY);
        cxy += dx * (y - meanY);
    }

    /** Folds {@code other}'s observations into this accumulator; {@code other} is unchanged. */
    public void merge(StreamingPearson other) {
        if (other.n == 0) return;
        if (n == 0) {
            n = other.n; meanX = other.meanX; meanY = other.meanY;
            m2x = other.m2x; m2y = other.m2y; cxy = other.cxy;
            return;
        }
        long total = n + other.n;
        double dx = other.meanX - meanX;
        double dy = other.meanY - meanY;
        double w = (double) n * other.n / total;
        m2x += other.m2x + dx * dx * w;
        m2y += other.m2y + dy * dy * w;
        cxy += other.cxy + dx * dy * w;
        meanX += dx * other.n / total;
        meanY += dy * other.n / total;
        n = total;
    }

    public long count() { return n; }

    public double meanX() { return meanX; }

    public double meanY() { return meanY; }

    /** Pearson r in [-1, 1]; 0 when either variable has zero variance (see class comment). */
    public double correlation() {
        if (n < 2 || m2x <= 0 || m2y <= 0) return 0.0;
        double r = cxy / Math.sqrt(m2x * m2y);
        // rounding can push |r| a hair past 1 for perfectly collinear data
        return Math.max(-1.0, Math.min(1.0, r));
    }
}
