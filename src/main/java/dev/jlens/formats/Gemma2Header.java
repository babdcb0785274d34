package dev.jlens.formats;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The gemma2 hyper-parameters and tensor types llama.cpp needs, checked in Java so that no file this accepts can
 * make llama.cpp abort, crash or compute NaN from the header alone. The rules are a schema: {@link #KEYS} lists
 * every key the pinned llama.cpp reads for a gemma2 model (llama-model.cpp load_hparams, models/gemma2.cpp,
 * llama-vocab.cpp load) with the exact GGUF type its loader insists on and the legal range; {@link #from} then
 * checks the relations between keys (head sizes, RoPE dimensions, experts, special-token ids) and the tensors:
 * exactly the set gemma2's loader creates for block_count blocks, each with the shape derived from the
 * hyper-parameters and a ggml type of its role ({@link #MATRIX_TYPES}, {@link #NORM_TYPES}).
 */
public record Gemma2Header(int nLayer, int nEmbd, int nHead, int nHeadKv, int headDim, int headDimV, int nFf, int nVocab,
                           int contextLength, float rmsEps, float attnSoftcap, float finalSoftcap, int slidingWindow,
                           String tokenizerModel, Map<String, GgmlType> tensorTypes) {
    /** llama.cpp's defaults when the optional keys are absent (llama-hparams.h, gemma2.cpp). */
    static final float DEFAULT_ATTN_SOFTCAP = 50.0f;
    static final float DEFAULT_FINAL_SOFTCAP = 30.0f;
    static final int DEFAULT_SLIDING_WINDOW = 4096;
    /** LLAMA_MAX_LAYERS: llama.cpp asserts block_count in [1, 512]. */
    static final int MAX_LAYERS = 512;
    private static final long U31 = Integer.MAX_VALUE;
    private static final String P = "gemma2.";

    public Gemma2Header {
        tensorTypes = Collections.unmodifiableMap(new LinkedHashMap<>(tensorTypes));
    }

    // ------------------------------------------------------------------------------------------------ the schema

    /**
     * One metadata key: the GGUF value types llama.cpp's loader accepts for it (get_key compares types exactly;
     * for an array, {@code types} are the element types), whether it must be present, and its legal values.
     */
    record Key(String name, Set<GgufValueType> types, boolean array, boolean required, Predicate<Object> legal, String range) {}

    private static final boolean REQUIRED = true, OPTIONAL = false;

    private static Key u32(String name, boolean required, long min, long max) {
        return u32(name, required, min, max, "");
    }

    private static Key u32(String name, boolean required, long min, long max, String why) {
        return new Key(name, EnumSet.of(GgufValueType.UINT32), false, required, v -> (Long) v >= min && (Long) v <= max,
                (min == max ? "" + min : "in [" + min + ", " + max + "]") + why);
    }

    private static Key f32(String name, boolean required, Predicate<Float> legal, String range) {
        return new Key(name, EnumSet.of(GgufValueType.FLOAT32), false, required, v -> legal.test((Float) v), range);
    }

    private static Key bool(String name, Predicate<Boolean> legal, String range) {
        return new Key(name, EnumSet.of(GgufValueType.BOOL), false, OPTIONAL, v -> legal.test((Boolean) v), range);
    }

    private static Key bool(String name) { return bool(name, b -> true, "true or false"); }

    private static Key string(String name, boolean required, Set<String> legal) {
        return new Key(name, EnumSet.of(GgufValueType.STRING), false, required, v -> legal == null || legal.contains((String) v),
                legal == null ? "a string" : "one of " + legal);
    }

    private static Key array(String name, boolean required, Set<GgufValueType> elementTypes) {
        return new Key(name, elementTypes, true, required, v -> true, "an array of " + elementTypes);
    }

    private static final Predicate<Float> POSITIVE = f -> Float.isFinite(f) && f > 0;
    private static final Predicate<Float> NON_NEGATIVE = f -> Float.isFinite(f) && f >= 0;
    private static final Predicate<Float> FINITE = Float::isFinite;

    /** The special-token ids llama-vocab.cpp reads (each UINT32, and jlens requires it inside the vocabulary). */
    static final List<String> SPECIAL_IDS = List.of("bos", "eos", "eot", "eom", "unknown", "seperator", "padding", "mask",
            "fim_pre", "fim_suf", "fim_mid", "fim_pad", "fim_rep", "fim_sep", "prefix", "suffix", "middle").stream()
            .map(s -> "tokenizer.ggml." + s + "_token_id").toList();

    /** Every key llama.cpp reads for gemma2, with its type and legal range (relations between keys: see {@link #from}). */
    static final List<Key> KEYS = buildKeys();

    private static List<Key> buildKeys() {
        List<Key> k = new java.util.ArrayList<>(List.of(
                string("general.architecture", REQUIRED, Set.of("gemma2")),
                string("general.name", OPTIONAL, null),
                // hyper-parameters (load_hparams; per-layer arrays are not accepted: gemma2 files never have them)
                u32(P + "context_length", REQUIRED, 1, U31),
                u32(P + "embedding_length", REQUIRED, 1, U31),
                u32(P + "embedding_length_out", OPTIONAL, 1, U31),           // must equal embedding_length (below)
                bool(P + "attention.causal", b -> b, "true (gemma2 attention is causal)"),
                u32(P + "pooling_type", OPTIONAL, 0, 4),                     // LLAMA_POOLING_TYPE_NONE..RANK
                u32(P + "block_count", REQUIRED, 1, MAX_LAYERS),
                u32(P + "nextn_predict_layers", OPTIONAL, 0, 0, " (gemma2 has no multi-token-prediction layers)"),
                u32(P + "expert_count", OPTIONAL, 0, 0, " (gemma2 is dense: no experts)"),
                u32(P + "expert_used_count", OPTIONAL, 0, U31),              // <= expert_count (below)
                u32(P + "expert_group_count", OPTIONAL, 0, 0, " (gemma2 is dense: no experts)"),
                u32(P + "expert_group_used_count", OPTIONAL, 0, 0, " (gemma2 is dense: no experts)"),
                u32(P + "feed_forward_length", REQUIRED, 1, U31),
                u32(P + "attention.head_count", REQUIRED, 1, U31),
                u32(P + "attention.head_count_kv", OPTIONAL, 1, U31),        // divides head_count (below)
                u32(P + "attention.key_length", OPTIONAL, 1, U31),
                u32(P + "attention.value_length", OPTIONAL, 1, U31),         // = key_length (below)
                u32(P + "attention.key_length_swa", OPTIONAL, 1, U31),       // = key_length (below)
                u32(P + "attention.value_length_swa", OPTIONAL, 1, U31),     // = value_length (below)
                u32(P + "rope.dimension_count", OPTIONAL, 2, U31),           // even, <= key_length (below)
                u32(P + "rope.dimension_count_swa", OPTIONAL, 2, U31),       // even, <= key_length (below)
                f32(P + "rope.freq_base", OPTIONAL, POSITIVE, "a finite number > 0"),
                f32(P + "rope.freq_base_swa", OPTIONAL, POSITIVE, "a finite number > 0"),
                string(P + "rope.scaling.type", OPTIONAL, Set.of("none", "linear", "yarn", "longrope")),
                f32(P + "rope.scaling.factor", OPTIONAL, NON_NEGATIVE, "a finite number >= 0 (0 = no scaling)"),
                f32(P + "rope.scale_linear", OPTIONAL, NON_NEGATIVE, "a finite number >= 0 (0 = no scaling)"),
                f32(P + "rope.scaling.attn_factor", OPTIONAL, POSITIVE, "a finite number > 0"),
                f32(P + "rope.scaling.alpha", OPTIONAL, FINITE, "a finite number"),
                u32(P + "rope.scaling.original_context_length", OPTIONAL, 1, U31),
                bool(P + "rope.scaling.finetuned"),
                // gemma2.cpp
                u32(P + "attention.sliding_window_pattern", OPTIONAL, 0, U31),
                u32(P + "attention.sliding_window", OPTIONAL, 1, U31),
                f32(P + "attention.layer_norm_rms_epsilon", REQUIRED, f -> f > 0 && f < 1, "in (0, 1)"),
                // a cap of 0 divides by zero: every attention score and logit becomes NaN
                f32(P + "attn_logit_softcapping", OPTIONAL, POSITIVE, "a finite number > 0"),
                f32(P + "final_logit_softcapping", OPTIONAL, POSITIVE, "a finite number > 0"),
                // tokenizer (llama-vocab.cpp): gemma2 uses SentencePiece, which llama.cpp calls "llama"
                string("tokenizer.ggml.model", REQUIRED, Set.of("llama")),
                string("tokenizer.ggml.pre", OPTIONAL, null),
                array("tokenizer.ggml.tokens", REQUIRED, EnumSet.of(GgufValueType.STRING)),     // unique (below)
                array("tokenizer.ggml.scores", OPTIONAL, EnumSet.of(GgufValueType.FLOAT32, GgufValueType.INT32)), // one per token
                array("tokenizer.ggml.token_type", OPTIONAL, EnumSet.of(GgufValueType.INT32)),  // one per token, 0..6
                u32("tokenizer.ggml.token_type_count", OPTIONAL, 0, U31),
                bool("tokenizer.ggml.add_bos_token"),
                bool("tokenizer.ggml.add_eos_token"),
                bool("tokenizer.ggml.add_sep_token"),
                bool("tokenizer.ggml.add_space_prefix"),
                bool("tokenizer.ggml.remove_extra_whitespaces"),
                bool("tokenizer.ggml.normalizer.lowercase"),
                bool("tokenizer.ggml.normalizer.strip_accents")));
        for (String id : SPECIAL_IDS) k.add(u32(id, OPTIONAL, 0, U31)); // < the vocabulary size (below)
        return List.copyOf(k);
    }

    /**
     * ggml types a weight matrix may have: those the CPU backend has a vec_dot for (mul_mat) and get_rows can read
     * (token_embd is both the input table and the tied output matrix). Not I8/I16/I32/I64/F64 (no mul_mat: GGML_ASSERT)
     * nor Q8_1/Q8_K (activation-side formats without a weight kernel).
     */
    static final Set<GgmlType> MATRIX_TYPES = Collections.unmodifiableSet(EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16,
            GgmlType.Q1_0, GgmlType.Q2_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
            GgmlType.MXFP4, GgmlType.NVFP4, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
            GgmlType.IQ2_XXS, GgmlType.IQ2_XS, GgmlType.IQ3_XXS, GgmlType.IQ3_S, GgmlType.IQ2_S, GgmlType.IQ1_S, GgmlType.IQ1_M,
            GgmlType.IQ4_NL, GgmlType.IQ4_XS, GgmlType.TQ1_0, GgmlType.TQ2_0));

    /** RMS-norm weights are multiplied element-wise into f32 activations: ggml_mul on the CPU needs them F32. */
    static final Set<GgmlType> NORM_TYPES = Collections.unmodifiableSet(EnumSet.of(GgmlType.F32));

    /** llama_token_type: UNDEFINED 0 .. BYTE 6. */
    static final int MAX_TOKEN_TYPE = 6, BYTE_TOKEN = 6;
    private static final java.util.regex.Pattern BYTE_SPELLING = java.util.regex.Pattern.compile("<0x[0-9A-Fa-f]{2}>");

    // ------------------------------------------------------------------------------------------------ checking

    /** Checks every key of {@link #KEYS} that is present (and every required one is): type, then range. */
    static void checkKeys(GgufFile g) throws FormatException {
        for (Key k : KEYS) {
            if (!g.has(k.name())) {
                if (k.required()) throw new FormatException(g.file(), k.name(), "missing key");
                continue;
            }
            GgufValueType t = g.type(k.name()).orElseThrow();
            GgufValueType et = g.arrayType(k.name()).orElse(null);
            boolean typeOk = k.array() ? t == GgufValueType.ARRAY && k.types().contains(et) : k.types().contains(t);
            if (!typeOk) {
                String wanted = k.array() ? "ARRAY of " + String.join(" or ", k.types().stream().map(Enum::name).toList())
                        : String.join(" or ", k.types().stream().map(Enum::name).toList());
                throw new FormatException(g.file(), k.name(), "expected " + wanted + " but the value is " + t + (et != null ? " of " + et : "")
                        + ": " + show(g.metadata().get(k.name())));
            }
            Object v = g.metadata().get(k.name());
            if (!k.legal().test(v)) throw new FormatException(g.file(), k.name(), "value " + show(v) + " is not " + k.range());
        }
    }

    private static String show(Object v) {
        if (v instanceof String s) return "'" + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + "'";
        if (v instanceof List<?> l) return "[" + l.size() + " elements]";
        return String.valueOf(v);
    }

    private static int u32(GgufFile g, String key, int dflt) {
        return g.has(key) ? (int) (long) (Long) g.metadata().get(key) : dflt;
    }

    private static float f32(GgufFile g, String key, float dflt) {
        return g.has(key) ? (Float) g.metadata().get(key) : dflt;
    }

    private static void require(boolean ok, GgufFile g, String field, String problem) throws FormatException {
        if (!ok) throw new FormatException(g.file(), field, problem);
    }

    static Gemma2Header from(GgufFile g) throws FormatException {
        // the architecture first: a llama or gemma3 file gets "not gemma2", not a list of missing gemma2 keys
        String arch = g.getString("general.architecture");
        if (!arch.equals("gemma2")) {
            throw new FormatException(g.file(), "general.architecture", "expected 'gemma2' but found '" + arch + "'");
        }
        checkKeys(g);

        // relations between keys (each key is already of the right type and inside its own range)
        int ctx = u32(g, P + "context_length", 0);
        int nEmbd = u32(g, P + "embedding_length", 0);
        int nLayer = u32(g, P + "block_count", 0);
        int nFf = u32(g, P + "feed_forward_length", 0);
        int nHead = u32(g, P + "attention.head_count", 0);
        int nHeadKv = u32(g, P + "attention.head_count_kv", nHead);
        require(nHead % nHeadKv == 0, g, P + "attention.head_count_kv", nHeadKv + " does not divide head_count " + nHead);
        require(u32(g, P + "embedding_length_out", nEmbd) == nEmbd, g, P + "embedding_length_out",
                "value " + u32(g, P + "embedding_length_out", nEmbd) + " differs from embedding_length " + nEmbd);
        int headDim = u32(g, P + "attention.key_length", nEmbd / nHead);
        int headDimV = u32(g, P + "attention.value_length", nEmbd / nHead);
        require(headDim > 0, g, P + "attention.key_length", "embedding_length " + nEmbd + " / head_count " + nHead + " gives a head size of 0");
        // gemma2's output projection is [key_length x head_count, n_embd]: a different V head size breaks its reshape
        require(headDimV == headDim, g, P + "attention.value_length", "value " + headDimV + " differs from key_length " + headDim
                + ": llama.cpp's gemma2 graph needs equal K and V head sizes");
        require(u32(g, P + "attention.key_length_swa", headDim) == headDim, g, P + "attention.key_length_swa",
                "value " + u32(g, P + "attention.key_length_swa", headDim) + " differs from key_length " + headDim + ": gemma2 has one head size");
        require(u32(g, P + "attention.value_length_swa", headDimV) == headDimV, g, P + "attention.value_length_swa",
                "value " + u32(g, P + "attention.value_length_swa", headDimV) + " differs from value_length " + headDimV + ": gemma2 has one head size");
        // RoPE rotates pairs inside one head: ggml_rope asserts an even count no larger than the head
        int nRot = u32(g, P + "rope.dimension_count", headDim);
        String rotField = g.has(P + "rope.dimension_count") ? P + "rope.dimension_count" : P + "attention.key_length";
        require(nRot % 2 == 0 && nRot <= headDim, g, rotField, "rope dimension count " + nRot + " must be even and at most the head size " + headDim);
        int nRotSwa = u32(g, P + "rope.dimension_count_swa", nRot);
        require(nRotSwa % 2 == 0 && nRotSwa <= headDim, g, P + "rope.dimension_count_swa",
                "value " + nRotSwa + " must be even and at most the head size " + headDim);
        int nExpert = u32(g, P + "expert_count", 0);
        int nExpertUsed = u32(g, P + "expert_used_count", 0);
        require(nExpertUsed <= nExpert, g, P + "expert_used_count", "value " + nExpertUsed + " exceeds expert_count " + nExpert
                + (g.has(P + "expert_count") ? "" : " (absent: 0)") + ": gemma2 is dense");
        float eps = f32(g, P + "attention.layer_norm_rms_epsilon", 0);
        float attnCap = f32(g, P + "attn_logit_softcapping", DEFAULT_ATTN_SOFTCAP);
        float finalCap = f32(g, P + "final_logit_softcapping", DEFAULT_FINAL_SOFTCAP);
        int swa = u32(g, P + "attention.sliding_window", DEFAULT_SLIDING_WINDOW);

        String tokModel = g.getString("tokenizer.ggml.model");
        List<String> tokens = g.getStringList("tokenizer.ggml.tokens");
        int nVocab = tokens.size();
        require(nVocab > 0, g, "tokenizer.ggml.tokens", "the vocabulary is empty");
        checkUnique(g, tokens);
        if (g.has("tokenizer.ggml.scores")) {
            List<?> scores = g.getList("tokenizer.ggml.scores");
            require(scores.size() == nVocab, g, "tokenizer.ggml.scores", scores.size() + " scores for " + nVocab + " tokens");
            for (int i = 0; i < scores.size(); i++) {
                if (scores.get(i) instanceof Float f && !Float.isFinite(f)) {
                    throw new FormatException(g.file(), "tokenizer.ggml.scores[" + i + "]", "score " + f + " is not finite");
                }
            }
        }
        if (g.has("tokenizer.ggml.token_type")) {
            List<?> types = g.getList("tokenizer.ggml.token_type");
            require(types.size() == nVocab, g, "tokenizer.ggml.token_type", types.size() + " token types for " + nVocab + " tokens");
            for (int i = 0; i < types.size(); i++) {
                int t = (Integer) types.get(i);
                if (t < 0 || t > MAX_TOKEN_TYPE) {
                    throw new FormatException(g.file(), "tokenizer.ggml.token_type[" + i + "]", "token type " + t + " is not in [0, " + MAX_TOKEN_TYPE + "]");
                }
                // llama.cpp reads a byte token's value from its spelling (text.substr(3, 2)): a shorter one fails the load
                if (t == BYTE_TOKEN && !BYTE_SPELLING.matcher(tokens.get(i)).matches()) {
                    throw new FormatException(g.file(), "tokenizer.ggml.token_type[" + i + "]", "token " + i + " " + show(tokens.get(i))
                            + " has type " + BYTE_TOKEN + " (BYTE) but is not spelled <0xHH>");
                }
            }
        }
        // llama.cpp ignores an out-of-range id with a warning and keeps its default (BOS would silently become
        // another token); jlens excludes BOS rows by this id, so it must name a real token
        for (String key : SPECIAL_IDS) {
            if (!g.has(key)) continue;
            long id = (Long) g.metadata().get(key);
            require(id < nVocab, g, key, "token id " + id + " is out of range: the vocabulary has " + nVocab + " tokens (ids 0.." + (nVocab - 1) + ")");
        }

        Map<String, GgmlType> types = checkTensors(g, nLayer, nEmbd, nHead, nHeadKv, headDim, headDimV, nFf, nVocab);
        return new Gemma2Header(nLayer, nEmbd, nHead, nHeadKv, headDim, headDimV, nFf, nVocab, ctx, eps, attnCap, finalCap, swa, tokModel, types);
    }

    /**
     * Token strings must be unique: llama-vocab.cpp maps text to id and GGML_ASSERTs that both maps have the same
     * size. It first renames an empty token i to "[EMPTY_i]", so the check compares the names it ends up with.
     */
    private static void checkUnique(GgufFile g, List<String> tokens) throws FormatException {
        Map<String, Integer> seen = new HashMap<>(tokens.size() * 2);
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i).isEmpty() ? "[EMPTY_" + i + "]" : tokens.get(i);
            Integer first = seen.putIfAbsent(t, i);
            if (first != null) {
                throw new FormatException(g.file(), "tokenizer.ggml.tokens[" + i + "]", "token '" + t + "' duplicates token " + first
                        + ": llama.cpp needs unique token strings");
            }
        }
    }

    /** The tensor roles of gemma2: name suffix, whether it is an RMS-norm weight, and its shape. */
    private static Map<String, GgmlType> checkTensors(GgufFile g, int nLayer, int nEmbd, int nHead, int nHeadKv, int headDim, int headDimV,
                                                      int nFf, int nVocab) throws FormatException {
        Map<String, long[]> expected = new LinkedHashMap<>();
        Set<String> norms = new java.util.HashSet<>();
        expected.put("token_embd.weight", new long[] {nEmbd, nVocab});
        expected.put("output_norm.weight", new long[] {nEmbd});
        norms.add("output_norm.weight");
        for (int i = 0; i < nLayer; i++) {
            String b = "blk." + i + ".";
            for (String n : List.of("attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm")) {
                expected.put(b + n + ".weight", new long[] {nEmbd});
                norms.add(b + n + ".weight");
            }
            expected.put(b + "attn_q.weight", new long[] {nEmbd, (long) headDim * nHead});
            expected.put(b + "attn_k.weight", new long[] {nEmbd, (long) headDim * nHeadKv});
            expected.put(b + "attn_v.weight", new long[] {nEmbd, (long) headDimV * nHeadKv});
            expected.put(b + "attn_output.weight", new long[] {(long) headDim * nHead, nEmbd});
            expected.put(b + "ffn_gate.weight", new long[] {nEmbd, nFf});
            expected.put(b + "ffn_up.weight", new long[] {nEmbd, nFf});
            expected.put(b + "ffn_down.weight", new long[] {nFf, nEmbd});
        }
        // llama.cpp fails a file with tensors its architecture does not create ("wrong number of tensors")
        for (GgufFile.TensorInfo t : g.tensors()) {
            if (!expected.containsKey(t.name())) {
                String why = t.name().matches("blk\\.\\d+\\..*") ? " (gemma2.block_count is " + nLayer + ": blocks 0.." + (nLayer - 1) + ")" : "";
                throw new FormatException(g.file(), t.name(), "unexpected tensor: not part of a gemma2 model" + why);
            }
        }
        Map<String, GgmlType> types = new LinkedHashMap<>();
        for (var e : expected.entrySet()) {
            String name = e.getKey();
            GgufFile.TensorInfo t = g.requireTensor(name);
            long[] ne = e.getValue();
            if (!Arrays.equals(pad4(t.ne()), pad4(ne))) {
                String extra = name.equals("token_embd.weight") ? " (ne[1] must equal the " + ne[1] + " tokens of tokenizer.ggml.tokens)" : "";
                throw new FormatException(g.file(), name, "shape " + Arrays.toString(t.ne()) + " but gemma2 needs " + Arrays.toString(ne) + extra);
            }
            Set<GgmlType> allowed = norms.contains(name) ? NORM_TYPES : MATRIX_TYPES;
            if (!allowed.contains(t.type())) {
                throw new FormatException(g.file(), name, "ggml type " + t.type() + " is not allowed for a " + (norms.contains(name) ? "norm weight" : "weight matrix")
                        + " (llama.cpp's CPU backend needs " + (norms.contains(name) ? "F32" : "one of " + allowed) + ")");
            }
            types.put(name, t.type());
        }
        return types;
    }

    private static long[] pad4(long[] ne) {
        long[] out = {1, 1, 1, 1};
        System.arraycopy(ne, 0, out, 0, Math.min(4, ne.length));
        return out;
    }
}
