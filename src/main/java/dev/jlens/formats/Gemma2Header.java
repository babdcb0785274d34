package dev.jlens.formats;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The gemma2 hyper-parameters and tensor types llama.cpp needs (see src/models/gemma2.cpp and
 * llama-model.cpp load_hparams), checked against the tensors actually present.
 */
public record Gemma2Header(int nLayer, int nEmbd, int nHead, int nHeadKv, int headDim, int headDimV, int nFf, int nVocab,
                           int contextLength, float rmsEps, float attnSoftcap, float finalSoftcap, int slidingWindow,
                           String tokenizerModel, Map<String, GgmlType> tensorTypes) {
    /** llama.cpp's defaults when the optional keys are absent (llama-hparams.h, gemma2.cpp). */
    static final float DEFAULT_ATTN_SOFTCAP = 50.0f;
    static final float DEFAULT_FINAL_SOFTCAP = 30.0f;
    static final int DEFAULT_SLIDING_WINDOW = 4096;

    public Gemma2Header {
        tensorTypes = Collections.unmodifiableMap(new LinkedHashMap<>(tensorTypes));
    }

    static Gemma2Header from(GgufFile g) throws FormatException {
        String arch = g.getString("general.architecture");
        if (!arch.equals("gemma2")) {
            throw new FormatException(g.file(), "general.architecture", "expected 'gemma2' but found '" + arch + "'");
        }
        String p = "gemma2.";
        int ctx = positive(g, p + "context_length", g.getU32(p + "context_length"));
        int nEmbd = positive(g, p + "embedding_length", g.getU32(p + "embedding_length"));
        int nLayer = positive(g, p + "block_count", g.getU32(p + "block_count"));
        int nFf = positive(g, p + "feed_forward_length", g.getU32(p + "feed_forward_length"));
        int nHead = positive(g, p + "attention.head_count", g.getU32(p + "attention.head_count"));
        int nHeadKv = g.has(p + "attention.head_count_kv") ? positive(g, p + "attention.head_count_kv", g.getU32(p + "attention.head_count_kv")) : nHead;
        if (nHead % nHeadKv != 0) {
            throw new FormatException(g.file(), p + "attention.head_count_kv", nHeadKv + " does not divide head_count " + nHead);
        }
        int headDim = g.has(p + "attention.key_length") ? positive(g, p + "attention.key_length", g.getU32(p + "attention.key_length")) : nEmbd / nHead;
        int headDimV = g.has(p + "attention.value_length") ? positive(g, p + "attention.value_length", g.getU32(p + "attention.value_length")) : nEmbd / nHead;
        float eps = g.getFloat(p + "attention.layer_norm_rms_epsilon");
        if (!(eps > 0 && eps < 1)) throw new FormatException(g.file(), p + "attention.layer_norm_rms_epsilon", "value " + eps + " is not in (0, 1)");
        float attnCap = g.has(p + "attn_logit_softcapping") ? g.getFloat(p + "attn_logit_softcapping") : DEFAULT_ATTN_SOFTCAP;
        float finalCap = g.has(p + "final_logit_softcapping") ? g.getFloat(p + "final_logit_softcapping") : DEFAULT_FINAL_SOFTCAP;
        if (!(attnCap >= 0) || !Float.isFinite(attnCap)) throw new FormatException(g.file(), p + "attn_logit_softcapping", "value " + attnCap + " is not a finite non-negative number");
        if (!(finalCap >= 0) || !Float.isFinite(finalCap)) throw new FormatException(g.file(), p + "final_logit_softcapping", "value " + finalCap + " is not a finite non-negative number");
        int swa = g.has(p + "attention.sliding_window") ? positive(g, p + "attention.sliding_window", g.getU32(p + "attention.sliding_window")) : DEFAULT_SLIDING_WINDOW;

        String tokModel = g.getString("tokenizer.ggml.model");
        int nVocab = g.getStringList("tokenizer.ggml.tokens").size();

        Map<String, GgmlType> types = new LinkedHashMap<>();
        expect(g, types, "token_embd.weight", nEmbd, nVocab);
        expect(g, types, "output_norm.weight", nEmbd);
        for (int i = 0; i < nLayer; i++) {
            String b = "blk." + i + ".";
            expect(g, types, b + "attn_norm.weight", nEmbd);
            expect(g, types, b + "attn_q.weight", nEmbd, (long) headDim * nHead);
            expect(g, types, b + "attn_k.weight", nEmbd, (long) headDim * nHeadKv);
            expect(g, types, b + "attn_v.weight", nEmbd, (long) headDimV * nHeadKv);
            expect(g, types, b + "attn_output.weight", (long) headDim * nHead, nEmbd);
            expect(g, types, b + "post_attention_norm.weight", nEmbd);
            expect(g, types, b + "ffn_norm.weight", nEmbd);
            expect(g, types, b + "ffn_gate.weight", nEmbd, nFf);
            expect(g, types, b + "ffn_up.weight", nEmbd, nFf);
            expect(g, types, b + "ffn_down.weight", nFf, nEmbd);
            expect(g, types, b + "post_ffw_norm.weight", nEmbd);
        }
        return new Gemma2Header(nLayer, nEmbd, nHead, nHeadKv, headDim, headDimV, nFf, nVocab, ctx, eps, attnCap, finalCap, swa, tokModel, types);
    }

    private static long[] pad4(long[] ne) {
        long[] out = {1, 1, 1, 1};
        System.arraycopy(ne, 0, out, 0, Math.min(4, ne.length));
        return out;
    }

    private static int positive(GgufFile g, String key, int v) throws FormatException {
        if (v <= 0) throw new FormatException(g.file(), key, "value " + v + " must be > 0");
        return v;
    }

    /** Requires the tensor with this ne; like llama.cpp's create_tensor, trailing 1s are insignificant. */
    private static void expect(GgufFile g, Map<String, GgmlType> types, String name, long... ne) throws FormatException {
        GgufFile.TensorInfo t = g.requireTensor(name);
        if (!Arrays.equals(pad4(t.ne()), pad4(ne))) {
            String extra = name.equals("token_embd.weight") ? " (ne[1] must equal the " + ne[1] + " tokens of tokenizer.ggml.tokens)" : "";
            throw new FormatException(g.file(), name, "shape " + Arrays.toString(t.ne()) + " but gemma2 needs " + Arrays.toString(ne) + extra);
        }
        types.put(name, t.type());
    }
}
