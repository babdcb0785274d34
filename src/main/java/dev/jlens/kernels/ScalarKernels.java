package dev.jlens.kernels;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** Reference kernels: plain loops that read like the spec. Always available. */
public final class ScalarKernels implements Kernels {
    @Override
    public String name() { return "scalar"; }

    @Override
    public float dot(float[] a, float[] b, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[i] * b[i];
        return s;
    }

    @Override
    public void encodeTile(float[] x, int nTokens, Weights w, MemorySegment bias, MemorySegment threshold,
                           int c0, int c1, float[] acc, ActiveBuffer out) {
        int dIn = w.rows(), tw = c1 - c0;
        Arrays.fill(acc, 0, nTokens * tw, 0f);
        // k outer so that W is read row by row (sequentially), as the vector kernel does
        for (int k = 0; k < dIn; k++) {
            for (int j = 0; j < tw; j++) {
                float wk = w.get(k, c0 + j);
                for (int t = 0; t < nTokens; t++) acc[t * tw + j] += x[t * dIn + k] * wk;
            }
        }
        for (int t = 0; t < nTokens; t++) {
            for (int j = 0; j < tw; j++) {
                float pre = acc[t * tw + j] + Weights.f32(bias, c0 + j);
                if (pre > Weights.f32(threshold, c0 + j)) out.add(t, c0 + j, pre);
            }
        }
    }

    @Override
    public void decode(int[] indices, float[] values, int off, int n, Weights w, MemorySegment bias, float[] out) {
        int dIn = w.cols();
        for (int d = 0; d < dIn; d++) out[d] = Weights.f32(bias, d);
        for (int j = 0; j < n; j++) {
            int f = indices[off + j];
            float v = values[off + j];
            for (int d = 0; d < dIn; d++) out[d] += v * w.get(f, d);
        }
    }

    @Override
    public void sparseRowSum(int[] rows, float[] values, int count, double[] labels, int stride, double[] acc, int n) {
        for (int k = 0; k < count; k++) {
            double v = values[k];
            int base = rows[k] * stride;
            for (int p = 0; p < n; p++) acc[p] += v * labels[base + p];
        }
    }
}
