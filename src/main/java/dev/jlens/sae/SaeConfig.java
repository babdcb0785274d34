package dev.jlens.sae;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.FormatException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SAE configuration in SAELens vocabulary, read from and written to SAELens' snake_case cfg.json.
 * Unknown keys are ignored. Architectures: "jumprelu" (Gemma Scope), "standard" (ReLU) and "topk" (with
 * {@code k}), each with normalize_activations "none": the encoders implement exactly those (SAELens 6,
 * {@code saes/jumprelu_sae.py}, {@code standard_sae.py}, {@code topk_sae.py}).
 *
 * <p>Read as SAELens reads it: {@code dtype} may carry torch's prefix ({@code "torch.float32"}, written by
 * {@code SAE.to()}) and is kept without it; model_name, hook_name, context_size, hook_head_index and
 * neuronpedia_id may sit at the top level (SAELens &lt; 6) or in the {@code metadata} object (SAELens 6), the
 * top level winning; a SAELens &lt; 6 topk config may give k as {@code activation_fn_kwargs.k}.
 * apply_b_dec_to_input: SAELens defaults it to TRUE when the key is absent, so reading follows that default,
 * and writing always emits the key (Gemma Scope needs false).
 *
 * @param hookName   e.g. "blocks.12.hook_resid_post"; null when unknown (a bare params.npz whose path does not say)
 * @param hookLayer  layer of hookName, -1 when unknown; when cfg.json lacks hook_layer it is parsed from "blocks.N."
 * @param dtype      "float32", "bfloat16", "float16" or "float64" (SAELens' compute dtype; jlens encodes in float32)
 * @param modelName  e.g. "gemma-2-2b"; null when unknown
 * @param contextSize training context length, 0 when unknown
 * @param neuronpediaId e.g. "gemma-2-2b/12-gemmascope-res-16k", null when unknown; lives in cfg.json's
 *                      metadata object (top-level neuronpedia_id of older SAELens files is read too)
 * @param k          active features per token of a "topk" SAE; null for the other architectures
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"architecture", "d_in", "d_sae", "k", "dtype", "model_name", "hook_name", "hook_layer",
        "apply_b_dec_to_input", "normalize_activations", "context_size", "metadata"})
public record SaeConfig(
        @JsonProperty("d_in") int dIn,
        @JsonProperty("d_sae") int dSae,
        @JsonProperty("architecture") String architecture,
        @JsonProperty("hook_name") String hookName,
        @JsonProperty("hook_layer") int hookLayer,
        @JsonProperty("apply_b_dec_to_input") boolean applyBDecToInput,
        @JsonProperty("normalize_activations") String normalizeActivations,
        @JsonProperty("dtype") String dtype,
        @JsonProperty("model_name") String modelName,
        @JsonProperty("context_size") int contextSize,
        @JsonIgnore String neuronpediaId,
        @JsonProperty("k") @JsonInclude(JsonInclude.Include.NON_NULL) Integer k) {

    private static final System.Logger LOG = System.getLogger(SaeConfig.class.getName());
    // reading is strict: a key given twice is an error naming it (Jackson would keep the last one)
    private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).enable(SerializationFeature.INDENT_OUTPUT).build();
    private static final Pattern LAYER = Pattern.compile("^blocks\\.(\\d{1,9})\\.");
    /** The architectures the encoders compute. */
    public static final List<String> ARCHITECTURES = List.of("jumprelu", "standard", "topk");
    private static final List<String> DTYPES = List.of("float32", "bfloat16", "float16", "float64");
    /** SAELens' default k of a topk SAE (TopKSAEConfig.k). */
    static final int SAELENS_DEFAULT_K = 100;

    /** A bad config value, with the cfg.json key it came from. */
    public static final class InvalidConfig extends IllegalArgumentException {
        private final String key;

        InvalidConfig(String key, String problem) {
            super(key + ": " + problem);
            this.key = key;
        }

        public String key() { return key; }
    }

    public SaeConfig {
        if (dIn <= 0) throw new InvalidConfig("d_in", "must be > 0, got " + dIn);
        if (dSae <= 0) throw new InvalidConfig("d_sae", "must be > 0, got " + dSae);
        if (!ARCHITECTURES.contains(architecture))
            throw new InvalidConfig("architecture", "supported are " + ARCHITECTURES + ", got \"" + architecture + "\"");
        if ("topk".equals(architecture)) {
            if (k == null || k < 1 || k > dSae) throw new InvalidConfig("k", "a topk SAE needs 1 <= k <= d_sae=" + dSae + ", got " + k);
        } else if (k != null) {
            throw new InvalidConfig("k", "only a topk SAE has k, this one is \"" + architecture + "\"");
        }
        if (hookName == null) {
            if (hookLayer != -1) throw new InvalidConfig("hook_layer", hookLayer + " given without a hook_name");
        } else {
            if (hookName.isBlank()) throw new InvalidConfig("hook_name", "must not be blank");
            if (hookLayer < 0) throw new InvalidConfig("hook_layer", "must be >= 0, got " + hookLayer);
            Matcher m = LAYER.matcher(hookName);
            if (m.find() && Integer.parseInt(m.group(1)) != hookLayer)
                throw new InvalidConfig("hook_layer", hookLayer + " but hook_name \"" + hookName + "\" is in block " + m.group(1));
        }
        if (!"none".equals(normalizeActivations))
            throw new InvalidConfig("normalize_activations", "only \"none\" is supported, got \"" + normalizeActivations + "\"");
        dtype = canonicalDtype(dtype);
        if (contextSize < 0) throw new InvalidConfig("context_size", "must be >= 0, got " + contextSize);
    }

    /** "torch.float32" -> "float32" (SAELens' DTYPE_MAP takes both spellings). */
    private static String canonicalDtype(String dtype) {
        Objects.requireNonNull(dtype, "dtype");
        String d = dtype.startsWith("torch.") ? dtype.substring("torch.".length()) : dtype;
        if (!DTYPES.contains(d))
            throw new InvalidConfig("dtype", "must be one of " + DTYPES + " (with or without \"torch.\"), got \"" + dtype + "\"");
        return d;
    }

    /** Gemma Scope residual SAE config: jumprelu, resid_post hook, no b_dec subtraction, no normalisation. */
    public static SaeConfig gemmaScope(int dIn, int dSae, int layer, String neuronpediaId) {
        return new SaeConfig(dIn, dSae, "jumprelu", "blocks." + layer + ".hook_resid_post", layer, false, "none",
                "float32", "gemma-2-2b", 1024, neuronpediaId, null);
    }

    /** Whether the hook layer (and so hook_name) is known. */
    @JsonIgnore
    public boolean hookKnown() { return hookName != null; }

    public SaeConfig withDims(int newDIn, int newDSae) {
        return new SaeConfig(newDIn, newDSae, architecture, hookName, hookLayer, applyBDecToInput, normalizeActivations,
                dtype, modelName, contextSize, neuronpediaId, k);
    }

    public SaeConfig withDtype(String newDtype) {
        return new SaeConfig(dIn, dSae, architecture, hookName, hookLayer, applyBDecToInput, normalizeActivations,
                newDtype, modelName, contextSize, neuronpediaId, k);
    }

    public SaeConfig withApplyBDecToInput(boolean apply) {
        return new SaeConfig(dIn, dSae, architecture, hookName, hookLayer, apply, normalizeActivations,
                dtype, modelName, contextSize, neuronpediaId, k);
    }

    /** This config with another hook ({@code null} name and -1 layer: unknown). */
    public SaeConfig withHook(String newHookName, int newHookLayer) {
        return new SaeConfig(dIn, dSae, architecture, newHookName, newHookLayer, applyBDecToInput, normalizeActivations,
                dtype, modelName, contextSize, neuronpediaId, k);
    }

    public SaeConfig withModelName(String newModelName) {
        return new SaeConfig(dIn, dSae, architecture, hookName, hookLayer, applyBDecToInput, normalizeActivations,
                dtype, newModelName, contextSize, neuronpediaId, k);
    }

    /** This config as another architecture; {@code newK} only for "topk". */
    public SaeConfig withArchitecture(String newArchitecture, Integer newK) {
        return new SaeConfig(dIn, dSae, newArchitecture, hookName, hookLayer, applyBDecToInput, normalizeActivations,
                dtype, modelName, contextSize, neuronpediaId, newK);
    }

    /** SAELens keeps neuronpedia_id in a metadata object. */
    @JsonProperty("metadata")
    Map<String, Object> metadataJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_name", modelName);
        m.put("hook_name", hookName);
        if (neuronpediaId != null) m.put("neuronpedia_id", neuronpediaId);
        return m;
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    static SaeConfig fromJson(JsonNode n) {
        if (n == null || !n.isObject()) throw new InvalidConfig("json", "cfg.json must be an object");
        JsonNode meta = n.path("metadata");
        int dIn = positiveInt(n, "d_in");
        int dSae = positiveInt(n, "d_sae");
        String architecture = text(n, null, "architecture");
        if (architecture == null)
            throw new InvalidConfig("architecture", "missing (SAELens before 6.0 meant \"standard\" by its absence: add \"architecture\": \"standard\" if so)");
        String hookName = text(n, meta, "hook_name");
        if (hookName == null) throw new InvalidConfig("hook_name", "missing (top level or metadata)");
        if (!isNull(n, meta, "hook_head_index"))
            throw new InvalidConfig("hook_head_index", "an SAE of one attention head (" + get(n, meta, "hook_head_index") + ") cannot read the residual stream");
        String modelName = text(n, meta, "model_name"); // SAELens tolerates its absence too: unknown
        int hookLayer;
        if (!isNull(n, null, "hook_layer")) {
            hookLayer = intValue(n.get("hook_layer"), "hook_layer");
        } else {
            Matcher m = LAYER.matcher(hookName);
            if (!m.find()) throw new InvalidConfig("hook_layer", "missing and hook_name \"" + hookName + "\" has no blocks.N. prefix");
            hookLayer = Integer.parseInt(m.group(1));
        }
        boolean applyBDec;
        if (isNull(n, null, "apply_b_dec_to_input")) {
            LOG.log(System.Logger.Level.WARNING, "cfg.json has no apply_b_dec_to_input; using SAELens' default true");
            applyBDec = true;
        } else {
            if (!n.get("apply_b_dec_to_input").isBoolean()) throw new InvalidConfig("apply_b_dec_to_input", "must be true or false, got " + n.get("apply_b_dec_to_input"));
            applyBDec = n.get("apply_b_dec_to_input").asBoolean();
        }
        String norm = text(n, null, "normalize_activations");
        if (!isNull(n, null, "rescale_acts_by_decoder_norm") && n.get("rescale_acts_by_decoder_norm").asBoolean())
            throw new InvalidConfig("rescale_acts_by_decoder_norm", "true is not supported (topk selection on decoder-norm-scaled pre-activations)");
        if (!isNull(n, null, "finetuning_scaling_factor") && n.get("finetuning_scaling_factor").asBoolean())
            throw new InvalidConfig("finetuning_scaling_factor", "true is not supported");
        Integer k = null;
        if ("topk".equals(architecture)) {
            JsonNode kn = !isNull(n, null, "k") ? n.get("k") : n.path("activation_fn_kwargs").path("k");
            if (kn.isMissingNode() || kn.isNull()) {
                LOG.log(System.Logger.Level.WARNING, "topk cfg.json has no k; using SAELens' default k=" + SAELENS_DEFAULT_K);
                k = SAELENS_DEFAULT_K;
            } else {
                k = intValue(kn, "k");
            }
        }
        String dtype = text(n, null, "dtype");
        JsonNode ctx = get(n, meta, "context_size");
        int contextSize = ctx == null || ctx.isNull() ? 0 : intValue(ctx, "context_size");
        String np = text(meta, null, "neuronpedia_id");
        if (np == null) np = text(n, null, "neuronpedia_id");
        return new SaeConfig(dIn, dSae, architecture, hookName, hookLayer, applyBDec, norm == null ? "none" : norm,
                dtype == null ? "float32" : dtype, modelName, contextSize, np, k);
    }

    /** The value of {@code key}: top level first, then {@code meta} (may be null or missing); null when in neither. */
    private static JsonNode get(JsonNode n, JsonNode meta, String key) {
        if (n.hasNonNull(key)) return n.get(key);
        if (meta != null && meta.hasNonNull(key)) return meta.get(key);
        return null;
    }

    private static boolean isNull(JsonNode n, JsonNode meta, String key) {
        return get(n, meta, key) == null;
    }

    private static String text(JsonNode n, JsonNode meta, String key) {
        JsonNode v = get(n, meta, key);
        if (v == null) return null;
        if (!v.isTextual()) throw new InvalidConfig(key, "must be a string, got " + v);
        return v.asText();
    }

    private static int positiveInt(JsonNode n, String key) {
        if (!n.hasNonNull(key)) throw new InvalidConfig(key, "missing");
        int v = intValue(n.get(key), key);
        if (v <= 0) throw new InvalidConfig(key, "must be > 0, got " + v);
        return v;
    }

    private static int intValue(JsonNode v, String key) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw new InvalidConfig(key, "must be an integer in the int range, got " + v);
        return v.asInt();
    }

    /** The normalised cfg.json text; the hook must be known (SAELens needs hook_name). */
    public String toJson() {
        if (!hookKnown()) throw new IllegalStateException("SAE config has no hook_name (the hook layer is unknown); cannot write a SAELens cfg.json");
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise SaeConfig", e);
        }
    }

    /** Parses cfg.json text; {@code file} names the source in errors. */
    public static SaeConfig parse(String json, Path file) throws FormatException {
        try {
            SaeConfig cfg = JSON.readValue(json, SaeConfig.class);
            // Jackson maps a top-level JSON null to a null object instead of failing
            if (cfg == null) throw new FormatException(file, "json", "cfg.json is null, expected an object");
            return cfg;
        } catch (JsonProcessingException e) {
            for (Throwable c = e; c != null; c = c.getCause())
                if (c instanceof InvalidConfig ic) throw new FormatException(file, ic.key(), ic.getMessage(), e);
            throw new FormatException(file, "json", e.getOriginalMessage(), e);
        }
    }

    public static SaeConfig read(Path cfgJson) throws IOException {
        String text;
        try {
            text = Files.readString(cfgJson);
        } catch (NoSuchFileException e) {
            throw new FormatException(cfgJson, "cfg.json", "file not found");
        } catch (CharacterCodingException e) {
            throw new FormatException(cfgJson, "cfg.json", "not valid UTF-8", e);
        }
        return parse(text, cfgJson);
    }

    public void write(Path cfgJson) throws IOException {
        AtomicFiles.writeString(cfgJson, toJson() + "\n");
    }
}
