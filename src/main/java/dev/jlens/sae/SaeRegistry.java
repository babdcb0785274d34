package dev.jlens.sae;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.formats.FormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * models/registry.json: releases of SAEs by id, with the path (relative to the models directory) where
 * scripts/download-models.sh puts them. The models directory is system property {@code jlens.models.dir},
 * else environment variable {@code JLENS_MODELS_DIR}, else ./models.
 */
public record SaeRegistry(Path file, Path root, JsonNode json) {
    /** One registered SAE. {@code format} is "gemma-scope-npz" or "saelens" (a directory). */
    public record Entry(String release, String saeId, String format, Path path, int dIn, int dSae, int hookLayer,
                        String neuronpediaId, String sha256) {}

    public static Path modelsDir() {
        String prop = System.getProperty("jlens.models.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String env = System.getenv("JLENS_MODELS_DIR");
        if (env != null && !env.isBlank()) return Path.of(env);
        return Path.of("models");
    }

    public static SaeRegistry load(Path modelsDir) throws IOException {
        Path f = modelsDir.resolve("registry.json");
        if (!Files.exists(f))
            throw new FormatException(f, "file", "registry not found (models dir from -Djlens.models.dir, JLENS_MODELS_DIR or ./models)");
        return new SaeRegistry(f, modelsDir, SaeLoader.readJson(f));
    }

    public Entry find(String release, String saeId) throws FormatException {
        JsonNode rel = json.path("releases").path(release);
        if (rel.isMissingNode()) {
            List<String> names = new ArrayList<>();
            json.path("releases").fieldNames().forEachRemaining(names::add);
            throw new FormatException(file, "releases/" + release, "unknown release; known: " + names);
        }
        JsonNode e = rel.path("saes").path(saeId);
        if (e.isMissingNode()) {
            List<String> ids = new ArrayList<>();
            rel.path("saes").fieldNames().forEachRemaining(ids::add);
            throw new FormatException(file, "releases/" + release + "/saes/" + saeId, "unknown sae id; known: " + ids);
        }
        String where = "releases/" + release + "/saes/" + saeId;
        String path = text(e, "path", where);
        String format = e.hasNonNull("format") ? e.get("format").asText() : rel.path("format").asText("gemma-scope-npz");
        int layer = e.has("hook_layer") ? e.get("hook_layer").asInt() : rel.path("hook_layer").asInt(-1);
        if (layer < 0) throw new FormatException(file, where + "/hook_layer", "missing (set it on the release or the sae)");
        return new Entry(release, saeId, format, root.resolve(path), integer(e, "d_in", where), integer(e, "d_sae", where),
                layer, e.hasNonNull("neuronpedia_id") ? e.get("neuronpedia_id").asText() : null,
                e.hasNonNull("sha256") ? e.get("sha256").asText() : null);
    }

    private String text(JsonNode e, String key, String where) throws FormatException {
        if (!e.hasNonNull(key) || !e.get(key).isTextual()) throw new FormatException(file, where + "/" + key, "missing or not a string");
        return e.get(key).asText();
    }

    private int integer(JsonNode e, String key, String where) throws FormatException {
        if (!e.hasNonNull(key) || !e.get(key).canConvertToInt() || e.get(key).asInt() <= 0)
            throw new FormatException(file, where + "/" + key, "missing or not a positive integer: " + e.get(key));
        return e.get(key).asInt();
    }
}
