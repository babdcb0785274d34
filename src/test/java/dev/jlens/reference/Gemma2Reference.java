package dev.jlens.reference;

import dev.jlens.toy.Gemma2Config;
import dev.jlens.toy.Gemma2Weights;

import java.util.Objects;

/**
 * A deliberately plain Gemma 2 forward pass over one prompt, written from llama.cpp's gemma2 graph
 * (src/models/gemma2.cpp) so that captures of {@code l_out-L} can be checked against it. Activations and
 * all sums are double; weights are the f32 values of {@link Gemma2Weights}.
 *
 * <p>Per block: x_norm = rms(x)*attn_norm; Q,K,V; NEOX RoPE on Q and K; Q *= 1/sqrt(head_dim);
 * scores soft-capped as tanh(s/cap)*cap; causal mask, plus on even (SWA) layers keys with
 * p1 - p0 &gt;= window are masked; softmax; GQA (head h reads kv head h / (n_head/n_head_kv)); output
 * projection; post-attention rms norm; residual add; ffn_norm; gelu_tanh(gate)*up; down; post-ffw rms
 * norm; residual add.
 */
public final class Gemma2Reference {
    /**
     * How GELU is evaluated. EXACT is the formula in f64. GGML_FP16_TABLE reproduces ggml-cpu's
     * GGML_GELU_FP16 path (ggml_vec_geglu_f32): for -10 < x < 10 the input is rounded to fp16 and looked
     * up in a table of fp16(gelu_f32(x)); x <= -10 gives 0 and x >= 10 gives x. Capture-fidelity tests
     * use it to compare against llama.cpp at f32 precision instead of at fp16's ~1e-3.
     */
    public enum Gelu { EXACT, GGML_FP16_TABLE }

    private final Gemma2Weights w;
    private final Gemma2Config c;
    private final Gelu gelu;

    public Gemma2Reference(Gemma2Weights weights) {
        this(weights, Gelu.EXACT);
    }

    public Gemma2Reference(Gemma2Weights weights, Gelu gelu) {
        this.w = Objects.requireNonNull(weights, "weights");
        this.c = weights.config();
        this.gelu = Objects.requireNonNull(gelu, "gelu");
    }

    /** llama.cpp's {@code l_out-layer} (TransformerLens blocks.layer.hook_resid_post) for positions 0..n-1. */
    public float[][] residualAfterLayer(int[] tokens, int layer) {
        return residualAfterLayer(tokens, layer, 0);
    }

    /** As {@link #residualAfterLayer(int[], int)} with the prompt placed at positions firstPos.. (for RoPE checks). */
    public float[][] residualAfterLayer(int[] tokens, int layer, int firstPos) {
        if (layer < 0 || layer >= c.nLayer()) throw new IllegalArgumentException("layer " + layer + " outside 0.." + (c.nLayer() - 1));
        return toFloat(run(tokens, layer, firstPos));
    }

    /** Logits after all layers, final norm, tied LM head (token_embd) and the final soft-cap. */
    public float[][] logits(int[] tokens) {
        double[][] x = run(tokens, c.nLayer() - 1, 0);
        float[][] out = new float[x.length][];
        for (int t = 0; t < x.length; t++) {
            double[] h = rmsNorm(x[t], w.outputNorm());
            double[] l = matVec(w.tokenEmbd(), h, c.nVocab());
            for (int v = 0; v < l.length; v++) l[v] = Math.tanh(l[v] / c.finalSoftcap()) * c.finalSoftcap();
            out[t] = toFloat(l);
        }
        return out;
    }

    private double[][] run(int[] tokens, int lastLayer, int firstPos) {
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) throw new IllegalArgumentException("empty prompt");
        if (firstPos < 0) throw new IllegalArgumentException("firstPos " + firstPos + " is negative");
        int n = tokens.length;
        int d = c.nEmbd();
        double scale = Math.sqrt(d);
        double[][] x = new double[n][d];
        for (int t = 0; t < n; t++) {
            int tok = tokens[t];
            if (tok < 0 || tok >= c.nVocab()) throw new IllegalArgumentException("tokens[" + t + "] = " + tok + " outside vocabulary of " + c.nVocab());
            for (int i = 0; i < d; i++) x[t][i] = w.tokenEmbd()[tok * d + i] * scale;
        }
        for (int il = 0; il <= lastLayer; il++) x = block(x, il, firstPos);
        return x;
    }

    private double[][] block(double[][] x, int il, int firstPos) {
        Gemma2Weights.Layer L = w.layers().get(il);
        int n = x.length, hd = c.headDim(), group = c.nHead() / c.nHeadKv();
        double[][] q = new double[n][], k = new double[n][], v = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] h = rmsNorm(x[t], L.attnNorm());
            q[t] = matVec(L.attnQ(), h, c.qDim());
            k[t] = matVec(L.attnK(), h, c.kvDim());
            v[t] = matVec(L.attnV(), h, c.kvDim());
            for (int hh = 0; hh < c.nHead(); hh++) ropeNeox(q[t], hh * hd, hd, firstPos + t, c.ropeBase());
            for (int hh = 0; hh < c.nHeadKv(); hh++) ropeNeox(k[t], hh * hd, hd, firstPos + t, c.ropeBase());
            double s = c.attentionScale();
            for (int i = 0; i < q[t].length; i++) q[t][i] *= s;
        }
        boolean swa = c.isSwaLayer(il);
        double[][] out = new double[n][];
        for (int t = 0; t < n; t++) {
            double[] heads = new double[c.qDim()];
            for (int h = 0; h < c.nHead(); h++) {
                int kvh = h / group;
                double[] p = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= t; j++) {
                    if (swa && t - j >= c.slidingWindow()) { p[j] = Double.NEGATIVE_INFINITY; continue; }
                    double sc = 0;
                    for (int i = 0; i < hd; i++) sc += q[t][h * hd + i] * k[j][kvh * hd + i];
                    sc = Math.tanh(sc / c.attnSoftcap()) * c.attnSoftcap();
                    p[j] = sc;
                    max = Math.max(max, sc);
                }
                double sum = 0;
                for (int j = 0; j <= t; j++) { p[j] = p[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(p[j] - max); sum += p[j]; }
                for (int j = 0; j <= t; j++) {
                    double pj = p[j] / sum;
                    for (int i = 0; i < hd; i++) heads[h * hd + i] += pj * v[j][kvh * hd + i];
                }
            }
            double[] attn = rmsNorm(matVec(L.attnOutput(), heads, c.nEmbd()), L.postAttnNorm());
            double[] sa = add(attn, x[t]);
            double[] f = rmsNorm(sa, L.ffnNorm());
            double[] gate = matVec(L.ffnGate(), f, c.nFf());
            double[] up = matVec(L.ffnUp(), f, c.nFf());
            double[] act = new double[c.nFf()];
            for (int i = 0; i < act.length; i++) act[i] = (gelu == Gelu.EXACT ? geluTanh(gate[i]) : geluGgmlFp16((float) gate[i])) * up[i];
            double[] down = rmsNorm(matVec(L.ffnDown(), act, c.nEmbd()), L.postFfwNorm());
            out[t] = add(down, sa);
        }
        return out;
    }

    /** ggml_rms_norm then multiply: x / sqrt(mean(x^2) + eps) * w. */
    double[] rmsNorm(double[] x, float[] weight) {
        double ss = 0;
        for (double e : x) ss += e * e;
        double inv = 1.0 / Math.sqrt(ss / x.length + c.rmsEps());
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * inv * weight[i];
        return y;
    }

    /** y[o] = sum_i W[o*in + i] * x[i], W in ggml layout ne=[in, out]. */
    static double[] matVec(float[] wt, double[] x, int out) {
        int in = x.length;
        if ((long) in * out != wt.length) throw new IllegalArgumentException("matrix of " + wt.length + " floats is not " + out + "x" + in);
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = 0;
            int base = o * in;
            for (int i = 0; i < in; i++) s += wt[base + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    /**
     * NEOX RoPE on one head at {@code off}: pairs (i, i + hd/2) rotated by pos * base^(-2i/hd), as ggml's
     * rope with GGML_ROPE_TYPE_NEOX, n_dims = head_dim, freq_scale 1 and no YaRN.
     */
    public static void ropeNeox(double[] v, int off, int hd, int pos, double base) {
        int half = hd / 2;
        for (int i = 0; i < half; i++) {
            double theta = pos * Math.pow(base, -2.0 * i / hd);
            double cos = Math.cos(theta), sin = Math.sin(theta);
            double a = v[off + i], b = v[off + i + half];
            v[off + i] = a * cos - b * sin;
            v[off + i + half] = a * sin + b * cos;
        }
    }

    /** GELU, tanh approximation (ggml_gelu / geglu): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    public static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /** ggml-cpu's fp16-table GELU (see {@link Gelu#GGML_FP16_TABLE}); the table entry is computed in f32 as ggml does. */
    public static double geluGgmlFp16(float x) {
        if (x <= -10f) return 0;
        if (x >= 10f) return x;
        float h = Float.float16ToFloat(Float.floatToFloat16(x));
        float g = 0.5f * h * (1.0f + (float) Math.tanh(0.79788456080286535587989211986876f * h * (1.0f + 0.044715f * h * h)));
        return Float.float16ToFloat(Float.floatToFloat16(g));
    }

    private static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    private static float[][] toFloat(double[][] a) {
        float[][] f = new float[a.length][];
        for (int i = 0; i < a.length; i++) f[i] = toFloat(a[i]);
        return f;
    }
}
