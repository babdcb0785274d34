package dev.jlens.sae;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.FormatException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * models/registry.json: releases of SAEs by id, with the path (relative to the models directory) where
 * scripts/download-models.sh puts them. The models directory is system property {@code jlens.models.dir},
 * else environment variable {@code JLENS_MODELS_DIR}, else {@code <jlens.project.dir>/models} when that property is
 * set (the launchers and the build set it to the checkout), else ./models under the working directory.
 *
 * <p>Which registry ({@link #load()}): the file named by {@code -Djlens.registry=path}, else
 * {@code <models directory>/registry.json} when it exists (a user's own), else the copy of the checkout's
 * models/registry.json built into the jar ({@value #BUILT_IN}), so ids resolve from any folder. Whichever is read,
 * its paths are relative to the models directory: downloads and the generated toy live there.
 *
 * <p>A downloaded release names its hub repository ({@code repo_id}) and a pinned commit ({@code revision}, 40 hex
 * digits: the script downloads {@code resolve/<revision>/<repo_path>}, never {@code resolve/main}); each SAE gives
 * the SHA-256 of each of its files ({@code sha256}: a string for a params.npz, an object file name -> digest for a
 * SAELens folder). Loading checks a recorded digest ({@link #verify}); a file's digest is remembered under
 * {@code <jlens cache>/verified} by (path, size, modification time), so a multi-GB file is hashed once, and again
 * only when it changes.
 */
public record SaeRegistry(Path file, Path root, JsonNode json) {
    private static final System.Logger LOG = System.getLogger(SaeRegistry.class.getName());
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern REVISION = Pattern.compile("[0-9a-f]{40}");

    /**
     * One registered SAE. {@code format} is "gemma-scope-npz" or "saelens" (a directory). {@code hookKind} is the
     * hook of a params.npz ({@code hook_resid_post} unless the release says), {@code modelName} null when the
     * registry does not say. {@code sha256}: file (under {@code path}) -> digest, empty when none is recorded.
     */
    public record Entry(String release, String saeId, String format, Path path, int dIn, int dSae, int hookLayer,
                        String hookKind, String modelName, String neuronpediaId, Map<Path, String> sha256) {
        public Entry {
            sha256 = Collections.unmodifiableMap(new LinkedHashMap<>(sha256));
        }
    }

    /** Where the registry built into the jar names itself in messages. */
    public static final String BUILT_IN = "jlens.jar!/dev/jlens/sae/registry.json";

    public static Path modelsDir() {
        String prop = System.getProperty("jlens.models.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String env = System.getenv("JLENS_MODELS_DIR");
        if (env != null && !env.isBlank()) return Path.of(env);
        String project = System.getProperty("jlens.project.dir");
        if (project != null && !project.isBlank()) return Path.of(project, "models");
        return Path.of("models");
    }

    /** The registry in force: {@code -Djlens.registry}, else the models directory's registry.json, else the built-in one. */
    public static SaeRegistry load() throws IOException {
        return load(System.getProperty("jlens.registry"), modelsDir());
    }

    /**
     * As {@link #load()} with the choices given: {@code explicit} (a registry file path, null or blank: none) wins and
     * must exist; else {@code modelsDir/registry.json} if it exists; else the built-in copy. Paths resolve against
     * {@code modelsDir} in every case.
     */
    static SaeRegistry load(String explicit, Path modelsDir) throws IOException {
        if (explicit != null && !explicit.isBlank()) {
            Path f = Path.of(explicit);
            if (!Files.isRegularFile(f)) throw new FormatException(f, "file", "registry not found (named by -Djlens.registry)");
            return new SaeRegistry(f, modelsDir, SaeLoader.readJson(f));
        }
        Path user = modelsDir.resolve("registry.json");
        if (Files.isRegularFile(user)) return new SaeRegistry(user, modelsDir, SaeLoader.readJson(user));
        return builtIn(modelsDir);
    }

    /** The copy of models/registry.json built into the jar, its paths resolved against {@code modelsDir}. */
    public static SaeRegistry builtIn(Path modelsDir) throws IOException {
        Path name = Path.of(BUILT_IN);
        try (InputStream in = SaeRegistry.class.getResourceAsStream("registry.json")) {
            if (in == null) throw new IllegalStateException(BUILT_IN + " is missing: the jar was built without models/registry.json");
            return new SaeRegistry(name, modelsDir, dev.jlens.util.Json.MAPPER.readTree(in));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new FormatException(name, "json", e.getOriginalMessage(), e);
        }
    }

    public static SaeRegistry load(Path modelsDir) throws IOException {
        Path f = modelsDir.resolve("registry.json");
        if (!Files.exists(f))
            throw new FormatException(f, "file", "registry not found (models dir from -Djlens.models.dir, JLENS_MODELS_DIR or ./models)");
        return new SaeRegistry(f, modelsDir, SaeLoader.readJson(f));
    }

    public boolean hasRelease(String release) {
        return json.path("releases").has(release);
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
            throw new FormatException(file, "releases/" + release + "/saes/" + saeId, "unknown sae id; known: " + ids
                    + " (for a folder of that name here, write ./" + release + "/" + saeId + ")");
        }
        String where = "releases/" + release + "/saes/" + saeId;
        String path = text(e, "path", where);
        String format = e.hasNonNull("format") ? e.get("format").asText() : rel.path("format").asText("gemma-scope-npz");
        int layer = e.has("hook_layer") ? e.get("hook_layer").asInt() : rel.path("hook_layer").asInt(-1);
        if (layer < 0) throw new FormatException(file, where + "/hook_layer", "missing (set it on the release or the sae)");
        String hook = optional(e, rel, "hook", where);
        String model = optional(e, rel, "model_name", where);
        Path p = root.resolve(path);
        Map<Path, String> sha = new LinkedHashMap<>();
        JsonNode s = e.path("sha256");
        if (s.isTextual()) {
            sha.put(p, digest(s.asText(), where + "/sha256"));
        } else if (s.isObject()) {
            for (var it = s.fields(); it.hasNext(); ) {
                var f = it.next();
                if (!f.getValue().isTextual()) throw new FormatException(file, where + "/sha256/" + f.getKey(), "must be a string");
                sha.put(p.resolve(f.getKey()), digest(f.getValue().asText(), where + "/sha256/" + f.getKey()));
            }
        } else if (!s.isMissingNode() && !s.isNull()) {
            throw new FormatException(file, where + "/sha256", "must be a hex digest or an object of file name -> digest, got " + s);
        }
        return new Entry(release, saeId, format, p, integer(e, "d_in", where), integer(e, "d_sae", where),
                layer, hook == null ? "hook_resid_post" : hook, model,
                e.hasNonNull("neuronpedia_id") ? e.get("neuronpedia_id").asText() : null, sha);
    }

    /**
     * The pinned hub commit of a release: its {@code revision}, 40 hex digits, or null when none is recorded
     * (scripts/download-models.sh refuses to download such a release; {@code --pin} resolves and records one).
     */
    public String revision(String release) throws FormatException {
        JsonNode r = json.path("releases").path(release).path("revision");
        if (r.isMissingNode() || r.isNull()) return null;
        if (!r.isTextual() || !REVISION.matcher(r.asText()).matches())
            throw new FormatException(file, "releases/" + release + "/revision", "must be a 40-hex-digit commit, got " + r);
        return r.asText();
    }

    /**
     * Checks every digest recorded for {@code e} against its file; a file whose (path, size, mtime) was verified
     * before is not hashed again. Throws a FormatException naming the file, the recorded and the actual digest.
     */
    public void verify(Entry e) throws IOException {
        for (Map.Entry<Path, String> f : e.sha256().entrySet()) {
            String got = sha256Remembered(f.getKey());
            if (!got.equals(f.getValue()))
                throw new FormatException(f.getKey(), "sha256", "is " + got + " but " + file + " records " + f.getValue() + " for "
                        + e.release() + "/" + e.saeId() + ": the file is damaged or another version; delete it and " + SaeLoader.DOWNLOAD_HINT);
        }
    }

    /** SHA-256 of {@code f}, remembered in the jlens cache by (absolute path, size, mtime). */
    static String sha256Remembered(Path f) throws IOException {
        Path abs = f.toAbsolutePath().normalize();
        BasicFileAttributes a = Files.readAttributes(abs, BasicFileAttributes.class);
        String key = hex(digest().digest((abs + "\n" + a.size() + "\n" + a.lastModifiedTime().toMillis()).getBytes(StandardCharsets.UTF_8)));
        Path memo = cacheDir().resolve("verified").resolve(key.substring(0, 32));
        if (Files.isRegularFile(memo)) {
            String s = Files.readString(memo).strip();
            if (SHA256.matcher(s).matches()) return s;
        }
        LOG.log(Level.INFO, "checking the SHA-256 of " + abs + " (" + a.size() / (1 << 20) + " MiB; once per file version)");
        MessageDigest md = digest();
        try (InputStream in = Files.newInputStream(abs)) {
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
        }
        String h = hex(md.digest());
        try {
            AtomicFiles.writeString(memo, h + "\n");
        } catch (IOException ex) {
            LOG.log(Level.INFO, "cannot remember the digest in " + memo + " (" + ex + "); the file will be hashed again next time");
        }
        return h;
    }

    /** System property jlens.cache.dir, else $JLENS_CACHE, else $XDG_CACHE_HOME/jlens, else ~/.cache/jlens (as scripts/lib.sh). */
    static Path cacheDir() {
        String p = System.getProperty("jlens.cache.dir");
        if (p != null && !p.isBlank()) return Path.of(p);
        String c = System.getenv("JLENS_CACHE");
        if (c != null && !c.isBlank()) return Path.of(c);
        String x = System.getenv("XDG_CACHE_HOME");
        if (x != null && !x.isBlank()) return Path.of(x, "jlens");
        return Path.of(System.getProperty("user.home"), ".cache", "jlens");
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] b) { return HexFormat.of().formatHex(b); }

    private String digest(String s, String where) throws FormatException {
        if (!SHA256.matcher(s).matches()) throw new FormatException(file, where, "must be 64 lower-case hex digits, got \"" + s + "\"");
        return s;
    }

    private String optional(JsonNode e, JsonNode rel, String key, String where) throws FormatException {
        JsonNode v = e.hasNonNull(key) ? e.get(key) : rel.path(key);
        if (v.isMissingNode() || v.isNull()) return null;
        if (!v.isTextual()) throw new FormatException(file, where + "/" + key, "must be a string, got " + v);
        return v.asText();
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
