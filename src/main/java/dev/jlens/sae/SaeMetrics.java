package dev.jlens.sae;

import dev.jlens.kernels.KernelProvider;
import dev.jlens.kernels.Kernels;
import java.lang.foreign.MemorySegment;

/**
 * Reconstruction quality of an SAE on given activations: decode x̂ = f · W_dec + b_dec per token, then
 * L0, MSE (mean over d_in), cosine(x, x̂), and FVU = sum_t ||x_t - x̂_t||² / sum_t ||x_t - mean(x)||²
 * over the included tokens (SAELens' definition; mean(x) is the mean activation vector of those tokens).
 */
public final class SaeMetrics {
    /** Per-token numbers. */
    public record Token(int l0, double mse, double cosine, double sqError) {}

    /** Aggregates over included tokens. */
    public record Summary(int tokens, double meanL0, double mse, double fvu, double meanCosine) {}

    /** Per-token results (null for excluded tokens) and the summary. */
    public record Report(Token[] perToken, Summary summary) {}

    private final Sae sae;
    private final Kernels kernels;

    public SaeMetrics(Sae sae) {
        this(sae, KernelProvider.best());
    }

    public SaeMetrics(Sae sae, Kernels kernels) {
        this.sae = sae;
        this.kernels = kernels;
    }

    /** Reconstruction of token t into {@code out} (d_in floats). */
    public void decode(SparseCodes codes, int t, float[] out) {
        if (codes.dSae() != sae.dSae()) throw new IllegalArgumentException("codes have d_sae " + codes.dSae() + ", SAE has " + sae.dSae());
        kernels.decode(codes.flatIndices(), codes.flatValues(), (int) codes.offset(t), codes.l0(t), sae.wDec(), sae.bDec(), out);
    }

    public float[] decode(SparseCodes codes, int t) {
        float[] out = new float[sae.dIn()];
        decode(codes, t, out);
        return out;
    }

    /**
     * @param x f32 [nTokens x d_in] as encoded
     * @param exclude tokens to leave out (e.g. BOS, whose norm dwarfs the rest); null excludes none
     */
    public Report evaluate(MemorySegment x, SparseCodes codes, boolean[] exclude) {
        int n = codes.nTokens(), d = sae.dIn();
        if (x.byteSize() < (long) n * d * 4) throw new IllegalArgumentException("x has " + x.byteSize() + " bytes, need " + (long) n * d * 4);
        if (exclude != null && exclude.length != n) throw new IllegalArgumentException("exclude has " + exclude.length + " entries, codes have " + n + " tokens");
        double[] mean = new double[d];
        int included = 0;
        for (int t = 0; t < n; t++) {
            if (exclude != null && exclude[t]) continue;
            included++;
            for (int k = 0; k < d; k++) mean[k] += x.getAtIndex(Sae.F32, (long) t * d + k);
        }
        if (included == 0) throw new IllegalArgumentException("no tokens left after the exclusion mask");
        for (int k = 0; k < d; k++) mean[k] /= included;
        Token[] per = new Token[n];
        float[] xh = new float[d];
        double sqErr = 0, variance = 0, cosSum = 0, l0Sum = 0;
        for (int t = 0; t < n; t++) {
            if (exclude != null && exclude[t]) continue;
            decode(codes, t, xh);
            double e = 0, xx = 0, hh = 0, xhd = 0, v = 0;
            for (int k = 0; k < d; k++) {
                double xv = x.getAtIndex(Sae.F32, (long) t * d + k), hv = xh[k];
                e += (xv - hv) * (xv - hv);
                xx += xv * xv;
                hh += hv * hv;
                xhd += xv * hv;
                v += (xv - mean[k]) * (xv - mean[k]);
            }
            double cos = xx == 0 || hh == 0 ? 0 : xhd / Math.sqrt(xx * hh);
            per[t] = new Token(codes.l0(t), e / d, cos, e);
            sqErr += e;
            variance += v;
            cosSum += cos;
            l0Sum += codes.l0(t);
        }
        // a single included token has zero variance around its own mean: FVU is undefined (NaN), not infinite
        double fvu = variance == 0 ? Double.NaN : sqErr / variance;
        return new Report(per, new Summary(included, l0Sum / included, sqErr / ((double) included * d), fvu, cosSum / included));
    }
}
