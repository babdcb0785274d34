package dev.jlens.sae;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
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
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SAE configuration in SAELens vocabulary, read from and written to SAELens' snake_case cfg.json.
 * Unknown keys are ignored. Only the JumpReLU architecture (Gemma Scope) with
 * normalize_activations "none" is supported: the encoders implement exactly that.
 *
 * <p>apply_b_dec_to_input: SAELens defaults it to TRUE when the key is absent, so reading follows
 * that default, and writing always emits the key (Gemma Scope needs false).
 *
 * @param hookLayer layer of hookName; when cfg.json lacks hook_layer it is parsed from "blocks.N."
 * @param contextSize training context length, 0 when unknown
 * @param neuronpediaId e.g. "gemma-2-2b/12-gemmascope-res-16k", null when unknown; lives in cfg.json's
 *                      metadata object (top-level neuronpedia_id of older SAELens files is read too)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonPropertyOrder({"architecture", "d_in", "d_sae", "dtype", "model_name", "hook_name", "hook_layer",
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
        @JsonIgnore String neuronpediaId) {

    private static final System.Logger LOG = System.getLogger(SaeConfig.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Pattern LAYER = Pattern.compile("^blocks\\.(\\d+)\\.");

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
        if (!"jumprelu".equals(architecture))
            throw new InvalidConfig("architecture", "only \"jumprelu\" (Gemma Scope) is supported, got \"" + architecture + "\"");
        Objects.requireNonNull(hookName, "hook_name");
        if (hookName.isBlank()) throw new InvalidConfig("hook_name", "must not be blank");
        if (hookLayer < 0) throw new InvalidConfig("hook_layer", "must be >= 0, got " + hookLayer);
        if (!"none".equals(normalizeActivations))
            throw new InvalidConfig("normalize_activations", "only \"none\" is supported (Gemma Scope), got \"" + normalizeActivations + "\"");
        if (!"float32".equals(dtype) && !"bfloat16".equals(dtype) && !"float16".equals(dtype))
            throw new InvalidConfig("dtype", "must be float32, bfloat16 or float16, got \"" + dtype + "\"");
        Objects.requireNonNull(modelName, "model_name");
        if (contextSize < 0) throw new InvalidConfig("context_size", "must be >= 0, got " + contextSize);
    }

    /** Gemma Scope residual SAE config: jumprelu, resid_post hook, no b_dec subtraction, no normalisation. */
    public static SaeConfig gemmaScope(int dIn, int dSae, int layer, String neuronpediaId) {
        return new SaeConfig(dIn, dSae, "jumprelu", "blocks." + layer + ".hook_resid_post", layer, false, "none",
                "float32", "gemma-2-2b", 1024, neuronpediaId);
    }

    public SaeConfig withDims(int newDIn, int newDSae) {
        return new SaeConfig(newDIn, newDSae, architecture, hookName, hookLayer, applyBDecToInput, normalizeActivations,
                dtype, modelName, contextSize, neuronpediaId);
    }

    public SaeConfig withDtype(String newDtype) {
        return new SaeConfig(dIn, dSae, architecture, hookName, hookLayer, applyBDecToInput, normalizeActivations,
                newDtype, modelName, contextSize, neuronpediaId);
    }

    public SaeConfig withApplyBDecToInput(boolean apply) {
        return new SaeConfig(dIn, dSae, architecture, hookName, hookLayer, apply, normalizeActivations,
                dtype, modelName, contextSize, neuronpediaId);
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

    @JsonCreator
    static SaeConfig fromJson(@JsonProperty("d_in") Integer dIn,
                              @JsonProperty("d_sae") Integer dSae,
                              @JsonProperty("architecture") String architecture,
                              @JsonProperty("hook_name") String hookName,
                              @JsonProperty("hook_layer") Integer hookLayer,
                              @JsonProperty("apply_b_dec_to_input") Boolean applyBDecToInput,
                              @JsonProperty("normalize_activations") String normalizeActivations,
                              @JsonProperty("dtype") String dtype,
                              @JsonProperty("model_name") String modelName,
                              @JsonProperty("context_size") Integer contextSize,
                              @JsonProperty("neuronpedia_id") String topLevelNeuronpediaId,
                              @JsonProperty("metadata") JsonNode metadata) {
        if (dIn == null) throw new InvalidConfig("d_in", "missing");
        if (dSae == null) throw new InvalidConfig("d_sae", "missing");
        if (architecture == null) throw new InvalidConfig("architecture", "missing");
        if (hookName == null && metadata != null && metadata.hasNonNull("hook_name")) hookName = metadata.get("hook_name").asText();
        if (hookName == null) throw new InvalidConfig("hook_name", "missing");
        if (modelName == null && metadata != null && metadata.hasNonNull("model_name")) modelName = metadata.get("model_name").asText();
        if (modelName == null) throw new InvalidConfig("model_name", "missing");
        if (hookLayer == null) {
            Matcher m = LAYER.matcher(hookName);
            if (!m.find()) throw new InvalidConfig("hook_layer", "missing and hook_name \"" + hookName + "\" has no blocks.N. prefix");
            hookLayer = Integer.parseInt(m.group(1));
        }
        if (applyBDecToInput == null) {
            LOG.log(System.Logger.Level.WARNING, "cfg.json has no apply_b_dec_to_input; using SAELens' default true");
            applyBDecToInput = true;
        }
        String np = metadata != null && metadata.hasNonNull("neuronpedia_id") ? metadata.get("neuronpedia_id").asText() : topLevelNeuronpediaId;
        return new SaeConfig(dIn, dSae, architecture, hookName, hookLayer, applyBDecToInput,
                normalizeActivations == null ? "none" : normalizeActivations, dtype == null ? "float32" : dtype,
                modelName, contextSize == null ? 0 : contextSize, np);
    }

    public String toJson() {
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
