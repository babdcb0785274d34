package dev.jlens.sae;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.formats.DType;
import dev.jlens.formats.FormatException;
import dev.jlens.formats.Npy;
import dev.jlens.formats.Npz;
import dev.jlens.formats.NpzFile;
import dev.jlens.formats.Safetensors;
import dev.jlens.formats.SafetensorsFile;
import dev.jlens.formats.Tensor;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loaders behind {@link Sae}'s static factories.
 *
 * <p>What a string names ({@link #load}), in this order:
 * <ol>
 *   <li>A path written as one ({@code /abs}, {@code ./rel}, {@code ../rel}, or ending in {@code .npz}) is a path.</li>
 *   <li>{@code release/sae_id} whose release is in the registry ({@link SaeRegistry#load()}: -Djlens.registry, the models directory's registry.json, else the one built into the jar) is a registry id, even when a folder of that
 *       name exists relative to the working directory (write {@code ./release/sae_id} to mean the folder); an unknown
 *       sae_id of a known release is an error listing the known ones.</li>
 *   <li>Otherwise an existing path: a folder with cfg.json is a SAELens directory, a folder with params.npz a Gemma
 *       Scope folder, a file a params.npz.</li>
 *   <li>Anything else is an error naming what was looked for.</li>
 * </ol>
 *
 * <p>A params.npz is read as SAELens' Gemma Scope loader reads it ({@code gemma_2_sae_huggingface_loader}): keys
 * {@code w_enc}/{@code w_dec} are W_enc/W_dec, a {@code scaling_factor} of ones is dropped. Its config comes from the
 * path the way SAELens derives it from the repository and folder: {@code layer_N} gives the layer; a Gemma Scope
 * release folder ({@code gemma-scope-2b-pt-res}, {@code gemma-scope-9b-it-mlp}, {@code models--google--gemma-scope-...}
 * in the hub cache) gives the model ({@code gemma-2-2b}, {@code gemma-2-9b-it}) and the hook ({@code res}:
 * {@code hook_resid_post}, {@code mlp}: {@code hook_mlp_out}, {@code att}: {@code attn.hook_z}). Without a release
 * folder the model is unknown and the hook is taken to be hook_resid_post; without a layer_N folder the layer is the
 * caller's hint, else unknown.
 */
final class SaeLoader {
    private static final System.Logger LOG = System.getLogger(SaeLoader.class.getName());
    private static final Pattern LAYER_DIR = Pattern.compile("^layer_(\\d{1,9})$");
    private static final Pattern RELEASE_DIR = Pattern.compile("gemma-scope-(2b|9b|27b)-(pt|it)-(res|mlp|att)(?![a-z])");
    static final String DOWNLOAD_HINT = "run scripts/download-models.sh to fetch it";

    private SaeLoader() {}

    static Sae.ElemType elemType(DType d) {
        return switch (d) {
            case F32 -> Sae.ElemType.F32;
            case BF16 -> Sae.ElemType.BF16;
            case F16 -> Sae.ElemType.F16;
        };
    }

    private static Map<String, Sae.RawTensor> raw(Map<String, Tensor> in) {
        Map<String, Sae.RawTensor> out = new LinkedHashMap<>();
        in.forEach((k, t) -> out.put(k, new Sae.RawTensor(k, elemType(t.dtype()), t.shape(), t.data(), t.fortranOrder())));
        return out;
    }

    /** What a params.npz's path says about it (null fields: the path does not say). */
    record NpzPath(Integer layer, String modelName, String hookKind, String release) {}

    static NpzPath describe(Path npz) {
        Integer layer = null;
        String model = null, hook = null, release = null;
        for (Path p = npz.toAbsolutePath().getParent(); p != null && p.getFileName() != null; p = p.getParent()) {
            String name = p.getFileName().toString();
            Matcher m = LAYER_DIR.matcher(name);
            if (layer == null && m.matches()) layer = Integer.parseInt(m.group(1));
            Matcher r = RELEASE_DIR.matcher(name);
            if (release == null && r.find()) {
                release = r.group();
                model = "gemma-2-" + r.group(1) + ("it".equals(r.group(2)) ? "-it" : "");
                hook = switch (r.group(3)) {
                    case "res" -> "hook_resid_post";
                    case "mlp" -> "hook_mlp_out";
                    default -> "attn.hook_z";
                };
            }
        }
        return new NpzPath(layer, model, hook, release);
    }

    /**
     * Gemma Scope params.npz, its config from the path ({@link #describe}); {@code layerHint} (>= 0) is the layer
     * when the path names none.
     */
    static Sae gemmaScopeNpz(Path npz, int layerHint) throws IOException {
        NpzPath d = describe(npz);
        int layer = d.layer() != null ? d.layer() : layerHint;
        String hookKind = d.hookKind() != null ? d.hookKind() : "hook_resid_post";
        if (d.layer() == null)
            LOG.log(Level.INFO, npz + ": no layer_N folder above the file; hook layer " + (layerHint >= 0 ? layerHint + " as given" : "unknown"));
        return gemmaScopeNpz(npz, null, layer, hookKind, d.modelName(), null);
    }

    /** Gemma Scope params.npz with an explicit config (checked against the tensor shapes). */
    static Sae gemmaScopeNpz(Path npz, SaeConfig cfg) throws IOException {
        return gemmaScopeNpz(npz, cfg, cfg.hookLayer(), null, cfg.modelName(), cfg.neuronpediaId());
    }

    /**
     * Gemma Scope params.npz with a config: either {@code cfg} (checked against the shapes) or, when null, a
     * Gemma Scope config built from the shapes, {@code layer} (-1: unknown), {@code hookKind}, {@code modelName}
     * (null: unknown) and {@code neuronpediaId}.
     */
    static Sae gemmaScopeNpz(Path npz, SaeConfig cfg, int layer, String hookKind, String modelName, String neuronpediaId) throws IOException {
        requireFile(npz);
        Arena arena = Arena.ofShared();
        NpzFile f;
        try {
            f = Npz.open(npz, arena, Npy.Order.C_OR_FORTRAN);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
        List<AutoCloseable> owned = new ArrayList<>(List.of(f));
        Map<String, Sae.RawTensor> t;
        try {
            t = gemmaScopeKeys(npz, raw(f.members()));
        } catch (IOException | RuntimeException e) {
            f.close();
            arena.close();
            throw e;
        }
        SaeConfig c = cfg;
        if (c == null) {
            Sae.RawTensor enc = t.get("W_enc");
            long[] s = enc == null ? null : enc.logicalShape();
            // a missing or malformed W_enc: let assemble produce the precise missing/shape error
            boolean usable = s != null && s.length == 2 && s[0] > 0 && s[1] > 0 && s[0] <= Integer.MAX_VALUE && s[1] <= Integer.MAX_VALUE;
            String hook = layer >= 0 ? "blocks." + layer + "." + hookKind : null;
            c = new SaeConfig(usable ? (int) s[0] : 1, usable ? (int) s[1] : 1, "jumprelu", hook, layer >= 0 ? layer : -1, false,
                    "none", "float32", modelName, 1024, neuronpediaId, null);
        }
        return Sae.assemble(npz, c, arena, owned, t);
    }

    /**
     * SAELens' Gemma Scope renames: {@code w_*} -> {@code W_*}; a {@code scaling_factor} member must be all ones
     * (dropped, as SAELens does), anything else would need its fine-tuning scaling, which is not supported.
     */
    static Map<String, Sae.RawTensor> gemmaScopeKeys(Path npz, Map<String, Sae.RawTensor> in) throws FormatException {
        Map<String, Sae.RawTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Sae.RawTensor> e : in.entrySet()) {
            String k = e.getKey();
            String key = k.startsWith("w_") ? "W_" + k.substring(2) : k;
            if (key.equals("scaling_factor")) {
                Sae.RawTensor s = e.getValue();
                long n = s.data().byteSize() / (s.type() == Sae.ElemType.F32 ? 4 : 2);
                for (long i = 0; i < n; i++) {
                    float v = switch (s.type()) {
                        case F32 -> s.data().getAtIndex(Sae.F32, i);
                        case F16 -> Float.float16ToFloat(s.data().getAtIndex(Sae.I16, i));
                        case BF16 -> Float.intBitsToFloat((s.data().getAtIndex(Sae.I16, i) & 0xFFFF) << 16);
                    };
                    if (v != 1f) throw new FormatException(npz, k, "value " + v + " at index " + i + ": a fine-tuning scaling factor other than 1 is not supported");
                }
                continue;
            }
            Sae.RawTensor r = e.getValue();
            if (out.put(key, new Sae.RawTensor(key, r.type(), r.shape(), r.data(), r.fortranOrder())) != null)
                throw new FormatException(npz, k, "both " + key + " and w_" + key.substring(2) + " are present (SAELens reads w_* as W_*)");
        }
        return out;
    }

    /** SAELens directory: cfg.json + sae_weights.safetensors. */
    static Sae saeLensDir(Path dir) throws IOException {
        Path cfgFile = dir.resolve("cfg.json"), weights = dir.resolve("sae_weights.safetensors");
        requireFile(cfgFile);
        requireFile(weights);
        SaeConfig cfg = SaeConfig.read(cfgFile);
        if (!"float32".equals(cfg.dtype()))
            LOG.log(Level.INFO, cfgFile + ": dtype " + cfg.dtype() + " (SAELens computes the encode in it); jlens encodes in float32 from the stored weights");
        Arena arena = Arena.ofShared();
        SafetensorsFile f;
        try {
            f = Safetensors.open(weights, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
        return Sae.assemble(weights, cfg, arena, new ArrayList<>(List.of(f)), raw(f.tensors()));
    }

    /** What a string names, after the precedence of the class comment. */
    private record Source(Path path, SaeRegistry registry, String release, String saeId, boolean saeLens) {}

    private static Source resolve(String pathOrId) throws IOException {
        if (pathOrId == null || pathOrId.isBlank()) throw new IllegalArgumentException("no SAE given");
        boolean pathForm = pathOrId.startsWith("/") || pathOrId.startsWith("./") || pathOrId.startsWith("../") || pathOrId.endsWith(".npz");
        int slash = pathOrId.indexOf('/');
        boolean idForm = !pathForm && slash > 0 && slash < pathOrId.length() - 1;
        if (idForm) {
            SaeRegistry reg = SaeRegistry.load();
            String release = pathOrId.substring(0, slash);
            if (reg.hasRelease(release)) {
                if (Files.exists(path(pathOrId)))
                    LOG.log(Level.INFO, "\"" + pathOrId + "\" is a registry id of " + reg.file() + " and also a path here; using the registry (write ./"
                            + pathOrId + " for the path)");
                return new Source(null, reg, release, pathOrId.substring(slash + 1), false);
            }
        }
        Path p = path(pathOrId);
        if (Files.isDirectory(p)) {
            if (Files.isRegularFile(p.resolve("cfg.json"))) return new Source(p, null, null, null, true);
            if (Files.isRegularFile(p.resolve("params.npz"))) return new Source(p.resolve("params.npz"), null, null, null, false);
            throw new FormatException(p, "folder", "neither a SAELens directory (cfg.json + sae_weights.safetensors) nor a Gemma Scope folder (params.npz)");
        }
        if (Files.isRegularFile(p)) return new Source(p, null, null, null, false);
        if (pathForm) throw new FormatException(p, "file", "does not exist; if it is a downloaded SAE, " + DOWNLOAD_HINT);
        throw new IllegalArgumentException("\"" + pathOrId + "\" is not a file or folder here, nor a release/sae_id of "
                + SaeRegistry.load().file() + (idForm ? "" : " (ids look like gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82)"));
    }

    /** See the class comment for the precedence. {@code layerHint}: layer for a params.npz whose path names none (-1: unknown). */
    static Sae load(String pathOrId, int layerHint) throws IOException {
        Source s = resolve(pathOrId);
        if (s.registry() != null) return fromPretrained(s.registry(), s.release(), s.saeId());
        return s.saeLens() ? saeLensDir(s.path()) : gemmaScopeNpz(s.path(), layerHint);
    }

    /**
     * The config {@link #load} would give, without mapping or checking the weights (a params.npz's W_enc header is
     * read for its shape): for checks before a long run.
     */
    static SaeConfig config(String pathOrId, int layerHint) throws IOException {
        Source s = resolve(pathOrId);
        if (s.registry() != null) {
            SaeRegistry.Entry e = s.registry().find(s.release(), s.saeId());
            if ("saelens".equals(e.format())) return SaeConfig.read(e.path().resolve("cfg.json"));
            return new SaeConfig(e.dIn(), e.dSae(), "jumprelu", "blocks." + e.hookLayer() + "." + e.hookKind(), e.hookLayer(), false,
                    "none", "float32", e.modelName(), 1024, e.neuronpediaId(), null);
        }
        if (s.saeLens()) return SaeConfig.read(s.path().resolve("cfg.json"));
        NpzPath d = describe(s.path());
        int layer = d.layer() != null ? d.layer() : layerHint;
        try (Arena arena = Arena.ofConfined(); NpzFile f = Npz.open(s.path(), arena, Npy.Order.C_OR_FORTRAN)) {
            Map<String, Sae.RawTensor> t = gemmaScopeKeys(s.path(), raw(f.members()));
            Sae.RawTensor enc = t.get("W_enc");
            if (enc == null) throw new FormatException(s.path(), "W_enc", "missing tensor; present: " + t.keySet().stream().sorted().toList());
            long[] sh = enc.logicalShape();
            if (sh.length != 2 || sh[0] < 1 || sh[1] < 1 || sh[0] > Integer.MAX_VALUE || sh[1] > Integer.MAX_VALUE)
                throw new FormatException(s.path(), "W_enc", "must be a 2-D [d_in, d_sae] matrix, shape is " + java.util.Arrays.toString(sh));
            String hook = layer >= 0 ? "blocks." + layer + "." + (d.hookKind() != null ? d.hookKind() : "hook_resid_post") : null;
            return new SaeConfig((int) sh[0], (int) sh[1], "jumprelu", hook, layer >= 0 ? layer : -1, false, "none", "float32",
                    d.modelName(), 1024, null, null);
        }
    }

    private static Path path(String s) {
        try {
            return Path.of(s);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("\"" + s + "\" is not a valid path: " + e.getMessage(), e);
        }
    }

    static Sae fromPretrained(String release, String saeId) throws IOException {
        return fromPretrained(SaeRegistry.load(), release, saeId);
    }

    static Sae fromPretrained(SaeRegistry reg, String release, String saeId) throws IOException {
        SaeRegistry.Entry e = reg.find(release, saeId);
        Path file = e.path();
        if (!Files.exists(file))
            throw new FormatException(file, release + "/" + saeId, "not downloaded; " + DOWNLOAD_HINT);
        reg.verify(e);
        Sae sae = switch (e.format()) {
            case "gemma-scope-npz" -> gemmaScopeNpz(file, null, e.hookLayer(), e.hookKind(), e.modelName(), e.neuronpediaId());
            case "saelens" -> saeLensDir(file);
            default -> throw new FormatException(reg.file(), release + "/" + saeId + "/format", "unknown format \"" + e.format() + "\"");
        };
        if (sae.dIn() != e.dIn() || sae.dSae() != e.dSae()) {
            String got = "[" + sae.dIn() + ", " + sae.dSae() + "]";
            sae.close();
            throw new FormatException(file, "W_enc", "shape " + got + " but registry " + reg.file() + " says d_in=" + e.dIn() + ", d_sae=" + e.dSae());
        }
        return sae;
    }

    static void requireFile(Path p) throws FormatException {
        if (!Files.exists(p)) throw new FormatException(p, "file", "does not exist; if it is a downloaded SAE, " + DOWNLOAD_HINT);
    }

    static JsonNode readJson(Path file) throws IOException {
        try {
            return dev.jlens.util.Json.MAPPER.readTree(file.toFile()); // strict: a duplicate key is an error naming it
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new FormatException(file, "json", e.getOriginalMessage(), e);
        }
    }
}
