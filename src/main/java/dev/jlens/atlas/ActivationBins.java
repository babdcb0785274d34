package dev.jlens.atlas;

/**
 * The fixed activation histogram bins every feature shares, so per-feature histograms merge by adding counts.
 * Half-octave bins read straight from a float's bits (exponent + top mantissa bit, no logarithm, so binning is
 * exact and identical everywhere): bin i covers [lo(i), lo(i+1)) with lo(2k) = 2^(MIN_EXP+k) and
 * lo(2k+1) = 1.5 * 2^(MIN_EXP+k). Values below 2^MIN_EXP fall in bin 0, values at or above 2^(MAX_EXP+1) in the
 * last bin.
 */
public final class ActivationBins {
    /** Lowest octave: 2^-8. */
    public static final int MIN_EXP = -8;
    /** Highest octave: 2^15 (the last bin holds everything >= 1.5 * 2^15). */
    public static final int MAX_EXP = 15;
    /** Number of bins. */
    public static final int COUNT = 2 * (MAX_EXP - MIN_EXP + 1);

    private ActivationBins() {}

    /** The bin of a firing activation (any float; non-positive and NaN values go to bin 0). */
    public static int bin(float v) {
        if (!(v > 0f)) return 0;
        int bits = Float.floatToRawIntBits(v);
        int exp = ((bits >>> 23) & 0xFF) - 127;       // unbiased exponent (subnormals read as -127: bin 0)
        int half = (bits >>> 22) & 1;                 // top mantissa bit: [1, 1.5) or [1.5, 2)
        int i = 2 * (exp - MIN_EXP) + half;
        return i < 0 ? 0 : Math.min(i, COUNT - 1);
    }

    /** Lower edge of bin i (bin 0's lower edge is reported as 0: it also holds everything smaller). */
    public static double lowerEdge(int i) {
        if (i < 0 || i > COUNT) throw new IndexOutOfBoundsException("bin " + i);
        if (i == 0) return 0.0;
        double octave = Math.scalb(1.0, MIN_EXP + i / 2);
        return (i % 2 == 0) ? octave : 1.5 * octave;
    }

    /** The COUNT + 1 edges (the last is the nominal upper edge of the last bin; it also holds larger values). */
    public static double[] edges() {
        double[] e = new double[COUNT + 1];
        for (int i = 0; i <= COUNT; i++) e[i] = lowerEdge(i);
        return e;
    }
}
