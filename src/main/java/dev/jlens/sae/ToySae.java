package dev.jlens.sae;

import dev.jlens.formats.DType;
import dev.jlens.formats.NpzWriter;
import dev.jlens.formats.Tensor;
import dev.jlens.kernels.WeightFormat;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Synthetic JumpReLU SAEs in Gemma Scope (params.npz) or SAELens layout, for tests and the toy pipeline.
 *
 * <p>Decoder rows are random unit vectors (one seeded RNG per feature, so any size is reproducible), W_enc
 * = encoderScale * W_dec^T. For an input x ~ N(0, inputStd^2 I) every unit row gives
 * pre_i = x·d_i + b_i ~ N(b_i, (encoderScale*inputStd)^2), so thresholds at the (1 - targetL0/d_sae)
 * normal quantile give an expected L0 of about targetL0 (tens, like Gemma Scope). Planted features
 * replace row i with a given direction (normalised) and threshold, b_enc 0.
 *
 * <p>Matrices are generated in chunks of features into memory-mapped temp files next to the output
 * (never a whole float[] on the heap), so the full 2304 x 262144 size can be written.
 */
public final class ToySae {
    private ToySae() {}

    public static Builder builder(int dIn, int dSae, long seed) {
        return new Builder(dIn, dSae, seed);
    }

    public static final class Builder {
        private static final int CHUNK = 256;
        private final int dIn;
        private final int dSae;
        private final long seed;
        private float inputStd = 1f;
        private float encoderScale = 1f;
        private double targetL0 = 40;
        private int layer = 12;
        private String neuronpediaId;
        private final Map<Integer, float[]> planted = new TreeMap<>();
        private final Map<Integer, Float> plantedThreshold = new TreeMap<>();
        private final Map<Integer, float[]> plantedEncoder = new TreeMap<>();

        private Builder(int dIn, int dSae, long seed) {
            if (dIn <= 0 || dSae <= 0) throw new IllegalArgumentException("d_in and d_sae must be > 0: " + dIn + ", " + dSae);
            this.dIn = dIn;
            this.dSae = dSae;
            this.seed = seed;
        }

        /** Per-dimension standard deviation of the inputs the thresholds are calibrated for. */
        public Builder inputStd(float std) {
            if (!(std > 0) || !Float.isFinite(std)) throw new IllegalArgumentException("inputStd must be finite and > 0: " + std);
            inputStd = std;
            return this;
        }

        public Builder encoderScale(float s) {
            if (!(s > 0) || !Float.isFinite(s)) throw new IllegalArgumentException("encoderScale must be finite and > 0: " + s);
            encoderScale = s;
            return this;
        }

        /** Expected active features per random input token. */
        public Builder targetL0(double l0) {
            if (!(l0 > 0) || l0 >= dSae) throw new IllegalArgumentException("targetL0 must be in (0, d_sae): " + l0);
            targetL0 = l0;
            return this;
        }

        public Builder layer(int l) {
            if (l < 0) throw new IllegalArgumentException("layer must be >= 0: " + l);
            layer = l;
            return this;
        }

        public Builder neuronpediaId(String id) {
            neuronpediaId = id;
            return this;
        }

        /** Feature {@code index} gets decoder row direction/|direction| and the given threshold. */
        public Builder plantFeature(int index, float[] direction, float threshold) {
            if (index < 0 || index >= dSae) throw new IllegalArgumentException("feature index " + index + " outside [0, " + dSae + ")");
            if (direction.length != dIn) throw new IllegalArgumentException("direction has " + direction.length + " elements, d_in is " + dIn);
            double n = 0;
            for (float v : direction) {
                if (!Float.isFinite(v)) throw new IllegalArgumentException("direction has a non-finite element: " + v);
                n += (double) v * v;
            }
            if (n == 0) throw new IllegalArgumentException("direction of feature " + index + " is all zero");
            if (!Float.isFinite(threshold)) throw new IllegalArgumentException("threshold must be finite: " + threshold);
            float[] d = new float[dIn];
            double inv = 1 / Math.sqrt(n);
            for (int k = 0; k < dIn; k++) d[k] = (float) (direction[k] * inv);
            planted.put(index, d);
            plantedThreshold.put(index, threshold);
            plantedEncoder.remove(index);
            return this;
        }

        /**
         * Feature {@code index} gets decoder row direction/|direction|, W_enc column {@code encoderColumn}
         * exactly as given (not normalised, not scaled by encoderScale) and the given threshold: for features
         * whose detector differs from the direction they write, as trained SAEs' often do.
         */
        public Builder plantFeature(int index, float[] direction, float[] encoderColumn, float threshold) {
            if (encoderColumn.length != dIn) throw new IllegalArgumentException("encoder column has " + encoderColumn.length + " elements, d_in is " + dIn);
            boolean nonZero = false;
            for (float v : encoderColumn) {
                if (!Float.isFinite(v)) throw new IllegalArgumentException("encoder column of feature " + index + " has a non-finite element: " + v);
                nonZero |= v != 0;
            }
            if (!nonZero) throw new IllegalArgumentException("encoder column of feature " + index + " is all zero");
            plantFeature(index, direction, threshold);
            plantedEncoder.put(index, encoderColumn.clone());
            return this;
        }

        public SaeConfig config() {
            return SaeConfig.gemmaScope(dIn, dSae, layer, neuronpediaId);
        }

        /** Writes a Gemma Scope params.npz (W_dec, W_enc, b_dec, b_enc, threshold; all f32). */
        public void writeGemmaScopeNpz(Path npz) throws IOException {
            Path dir = npz.toAbsolutePath().getParent();
            try (TempMatrix enc = new TempMatrix(dir, 4L * dIn * dSae);
                 TempMatrix dec = new TempMatrix(dir, 4L * dIn * dSae)) {
                fillMatrices(enc.data, dec.data);
                float[][] vecs = vectors();
                Map<String, Tensor> m = new LinkedHashMap<>();
                m.put("W_dec", new Tensor("W_dec", DType.F32, new long[] {dSae, dIn}, dec.data));
                m.put("W_enc", new Tensor("W_enc", DType.F32, new long[] {dIn, dSae}, enc.data));
                m.put("b_dec", new Tensor("b_dec", DType.F32, new long[] {dIn}, MemorySegment.ofArray(vecs[2])));
                m.put("b_enc", new Tensor("b_enc", DType.F32, new long[] {dSae}, MemorySegment.ofArray(vecs[0])));
                m.put("threshold", new Tensor("threshold", DType.F32, new long[] {dSae}, MemorySegment.ofArray(vecs[1])));
                NpzWriter.write(npz, m);
            }
        }

        /** Writes a SAELens directory (matrices in {@code matrices} format) via a temporary npz. */
        public void writeSaeLensDir(Path dir, WeightFormat matrices) throws IOException {
            Path tmp = dir.toAbsolutePath().resolve(".toy-params.npz");
            try {
                writeGemmaScopeNpz(tmp);
                try (Sae sae = Sae.loadGemmaScopeNpz(tmp, config())) {
                    SaeWriter.writeSaeLensDir(sae, dir, matrices);
                }
            } finally {
                java.nio.file.Files.deleteIfExists(tmp);
            }
        }

        private float[] row(int feature) {
            float[] p = planted.get(feature);
            if (p != null) return p;
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + feature);
            float[] d = new float[dIn];
            double n = 0;
            for (int k = 0; k < dIn; k++) { d[k] = (float) r.nextGaussian(); n += (double) d[k] * d[k]; }
            double inv = 1 / Math.sqrt(n);
            for (int k = 0; k < dIn; k++) d[k] = (float) (d[k] * inv);
            return d;
        }

        /**
         * W_dec row by row; W_enc column chunk by column chunk, as contiguous row pieces. Chunks are
         * independent (each feature has its own seed) and write disjoint ranges, so they run in parallel
         * and the file is the same whatever the thread count.
         */
        private void fillMatrices(MemorySegment enc, MemorySegment dec) {
            int chunks = (dSae + CHUNK - 1) / CHUNK;
            java.util.stream.IntStream.range(0, chunks).parallel().forEach(c -> {
                int i0 = c * CHUNK;
                int n = Math.min(CHUNK, dSae - i0);
                float[] rows = new float[n * dIn];
                float[] piece = new float[n];
                float[][] encs = new float[n][];
                for (int j = 0; j < n; j++) {
                    System.arraycopy(row(i0 + j), 0, rows, j * dIn, dIn);
                    encs[j] = plantedEncoder.get(i0 + j);
                }
                MemorySegment.copy(rows, 0, dec, Sae.F32, (long) i0 * dIn * 4, n * dIn);
                for (int k = 0; k < dIn; k++) {
                    for (int j = 0; j < n; j++) {
                        piece[j] = encs[j] != null ? encs[j][k] : rows[j * dIn + k] * encoderScale;
                    }
                    MemorySegment.copy(piece, 0, enc, Sae.F32, ((long) k * dSae + i0) * 4, n);
                }
            });
        }

        /** b_enc, threshold, b_dec (small: d_sae and d_in floats). */
        private float[][] vectors() {
            SplittableRandom r = new SplittableRandom(~seed);
            double sigma = (double) inputStd * encoderScale;
            double z = upperQuantile(targetL0 / dSae);
            float[] bEnc = new float[dSae], thr = new float[dSae], bDec = new float[dIn];
            for (int i = 0; i < dSae; i++) {
                Float pt = plantedThreshold.get(i);
                if (pt != null) { thr[i] = pt; continue; }
                bEnc[i] = (float) (0.02 * sigma * r.nextGaussian());
                // a little spread so features do not share one threshold, as trained ones do not
                thr[i] = (float) (sigma * z * (1 + 0.05 * (r.nextDouble() - 0.5)));
            }
            for (int k = 0; k < dIn; k++) bDec[k] = (float) (0.01 * inputStd * r.nextGaussian());
            return new float[][] {bEnc, thr, bDec};
        }

        @Override
        public String toString() {
            return "ToySae[" + dIn + "x" + dSae + " seed " + seed + " planted " + Arrays.toString(planted.keySet().toArray()) + "]";
        }
    }

    /** z with P(N(0,1) > z) = p, by bisection on erfc (plenty for calibration). */
    static double upperQuantile(double p) {
        double lo = -10, hi = 10;
        for (int i = 0; i < 100; i++) {
            double mid = (lo + hi) / 2;
            if (0.5 * erfc(mid / Math.sqrt(2)) > p) lo = mid; else hi = mid;
        }
        return (lo + hi) / 2;
    }

    /** Complementary error function, Numerical Recipes' Chebyshev fit (relative error < 1.2e-7). */
    static double erfc(double x) {
        double z = Math.abs(x), t = 1 / (1 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
