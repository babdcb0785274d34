package dev.jlens.toy;

import java.util.List;
import java.util.Objects;

/**
 * Gemma 2 weights in memory, in GGUF layout: a matrix with ggml shape ne=[in, out] is a float[out*in]
 * whose element (o, i) is at {@code o*in + i}, so {@code y[o] = sum_i W[o*in+i] * x[i]}. Norm weights are
 * the GGUF values, i.e. they already include Gemma's +1. Arrays are shared, not copied: treat as read-only.
 */
public record Gemma2Weights(Gemma2Config config, float[] tokenEmbd, float[] outputNorm, List<Layer> layers) {

    /** One block; shapes as ggml ne (contiguous dim first). */
    public record Layer(
            float[] attnNorm,     // [nEmbd]
            float[] attnQ,        // ne [nEmbd, nHead*headDim]
            float[] attnK,        // ne [nEmbd, nHeadKv*headDim]
            float[] attnV,        // ne [nEmbd, nHeadKv*headDim]
            float[] attnOutput,   // ne [nHead*headDim, nEmbd]
            float[] postAttnNorm, // [nEmbd]
            float[] ffnNorm,      // [nEmbd]
            float[] ffnGate,      // ne [nEmbd, nFf]
            float[] ffnUp,        // ne [nEmbd, nFf]
            float[] ffnDown,      // ne [nFf, nEmbd]
            float[] postFfwNorm)  // [nEmbd]
    {
        public Layer {
            Objects.requireNonNull(attnNorm, "attnNorm");
            Objects.requireNonNull(attnQ, "attnQ");
            Objects.requireNonNull(attnK, "attnK");
            Objects.requireNonNull(attnV, "attnV");
            Objects.requireNonNull(attnOutput, "attnOutput");
            Objects.requireNonNull(postAttnNorm, "postAttnNorm");
            Objects.requireNonNull(ffnNorm, "ffnNorm");
            Objects.requireNonNull(ffnGate, "ffnGate");
            Objects.requireNonNull(ffnUp, "ffnUp");
            Objects.requireNonNull(ffnDown, "ffnDown");
            Objects.requireNonNull(postFfwNorm, "postFfwNorm");
        }

        /** The tensor stored under {@code blk.N.<suffix>.weight}. */
        public float[] tensor(String suffix) {
            return switch (suffix) {
                case "attn_norm" -> attnNorm;
                case "attn_q" -> attnQ;
                case "attn_k" -> attnK;
                case "attn_v" -> attnV;
                case "attn_output" -> attnOutput;
                case "post_attention_norm" -> postAttnNorm;
                case "ffn_norm" -> ffnNorm;
                case "ffn_gate" -> ffnGate;
                case "ffn_up" -> ffnUp;
                case "ffn_down" -> ffnDown;
                case "post_ffw_norm" -> postFfwNorm;
                default -> throw new IllegalArgumentException("no layer tensor " + suffix);
            };
        }
    }

    public Gemma2Weights {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(tokenEmbd, "tokenEmbd");
        Objects.requireNonNull(outputNorm, "outputNorm");
        layers = List.copyOf(layers);
        if (layers.size() != config.nLayer()) throw new IllegalArgumentException("layers: " + layers.size() + " != nLayer " + config.nLayer());
        check("token_embd.weight", tokenEmbd, (long) config.nVocab() * config.nEmbd());
        check("output_norm.weight", outputNorm, config.nEmbd());
        for (int il = 0; il < layers.size(); il++) {
            for (ToyModels.TensorSpec s : ToyModels.layerSpecs(config, il)) {
                check(s.name(), layers.get(il).tensor(s.suffix()), s.elements());
            }
        }
    }

    /** The tensor stored under a GGUF tensor name, e.g. {@code blk.3.ffn_up.weight}. */
    public float[] tensor(String name) {
        if (name.equals("token_embd.weight")) return tokenEmbd;
        if (name.equals("output_norm.weight")) return outputNorm;
        ToyModels.TensorSpec s = ToyModels.spec(config, name);
        return layers.get(s.layer()).tensor(s.suffix());
    }

    private static void check(String name, float[] a, long n) {
        if (a.length != n) throw new IllegalArgumentException(name + ": " + a.length + " floats, expected " + n);
    }
}
