package dev.jlens.sae;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.formats.DType;
import dev.jlens.formats.FormatException;
import dev.jlens.formats.Npz;
import dev.jlens.formats.NpzFile;
import dev.jlens.formats.Safetensors;
import dev.jlens.formats.SafetensorsFile;
import dev.jlens.formats.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Loaders behind {@link Sae}'s static factories. */
final class SaeLoader {
    private static final System.Logger LOG = System.getLogger(SaeLoader.class.getName());
    private static final Pattern LAYER_DIR = Pattern.compile("^layer_(\\d+)$");
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
        in.forEach((k, t) -> out.put(k, new Sae.RawTensor(k, elemType(t.dtype()), t.shape(), t.data())));
        return out;
    }

    /** Gemma Scope params.npz; the hook layer comes from a "layer_N" directory in the path. */
    static Sae gemmaScopeNpz(Path npz) throws IOException {
        Integer layer = null;
        for (Path p = npz.toAbsolutePath().getParent(); p != null && layer == null; p = p.getParent()) {
            if (p.getFileName() == null) break;
            Matcher m = LAYER_DIR.matcher(p.getFileName().toString());
            if (m.matches()) layer = Integer.parseInt(m.group(1));
        }
        if (layer == null)
            throw new FormatException(npz, "path", "cannot tell the hook layer: no layer_N directory above the file; "
                    + "use Sae.loadGemmaScopeNpz(path, cfg) or the registry");
        return gemmaScopeNpz(npz, null, layer, null);
    }

    /**
     * Gemma Scope params.npz with a config: either {@code cfg} (checked against the shapes) or, when null,
     * {@link SaeConfig#gemmaScope} built from the shapes, {@code layer} and {@code neuronpediaId}.
     */
    static Sae gemmaScopeNpz(Path npz, SaeConfig cfg, int layer, String neuronpediaId) throws IOException {
        requireFile(npz);
        Arena arena = Arena.ofShared();
        NpzFile f;
        try {
            f = Npz.open(npz, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
        List<AutoCloseable> owned = new ArrayList<>(List.of(f));
        Map<String, Sae.RawTensor> t = raw(f.members());
        SaeConfig c = cfg;
        if (c == null) {
            Sae.RawTensor enc = t.get("W_enc");
            if (enc == null || enc.shape().length != 2) {
                // let assemble produce the precise missing/shape error
                c = SaeConfig.gemmaScope(1, 1, layer, neuronpediaId);
            } else {
                c = SaeConfig.gemmaScope((int) enc.shape()[0], (int) enc.shape()[1], layer, neuronpediaId);
            }
        }
        return Sae.assemble(npz, c, arena, owned, t);
    }

    /** SAELens directory: cfg.json + sae_weights.safetensors. */
    static Sae saeLensDir(Path dir) throws IOException {
        Path cfgFile = dir.resolve("cfg.json"), weights = dir.resolve("sae_weights.safetensors");
        requireFile(cfgFile);
        requireFile(weights);
        SaeConfig cfg = SaeConfig.read(cfgFile);
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

    static Sae load(String pathOrId) throws IOException {
        Path p = Path.of(pathOrId);
        if (Files.isDirectory(p)) return saeLensDir(p);
        if (pathOrId.endsWith(".npz")) return gemmaScopeNpz(p);
        int slash = pathOrId.indexOf('/');
        if (slash <= 0 || slash == pathOrId.length() - 1)
            throw new IllegalArgumentException("\"" + pathOrId + "\" is not a directory, not a .npz file, and not a release/sae_id id");
        return fromPretrained(pathOrId.substring(0, slash), pathOrId.substring(slash + 1));
    }

    static Sae fromPretrained(String release, String saeId) throws IOException {
        SaeRegistry reg = SaeRegistry.load(SaeRegistry.modelsDir());
        SaeRegistry.Entry e = reg.find(release, saeId);
        Path file = e.path();
        if (!Files.exists(file))
            throw new FormatException(file, release + "/" + saeId, "not downloaded; " + DOWNLOAD_HINT);
        Sae sae = switch (e.format()) {
            case "gemma-scope-npz" -> gemmaScopeNpz(file, null, e.hookLayer(), e.neuronpediaId());
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
            return new ObjectMapper().readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new FormatException(file, "json", e.getOriginalMessage(), e);
        }
    }
}
