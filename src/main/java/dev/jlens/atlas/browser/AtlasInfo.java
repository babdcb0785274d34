package dev.jlens.atlas.browser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.formats.FormatException;
import dev.jlens.util.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What the browser and the export need from {@code atlas.json} (the run metadata of one atlas folder), checked.
 *
 * @param raw              the whole object, shown on the overview page as it is (minus the two histograms)
 * @param model            the model file the atlas was computed on
 * @param layer            residual-stream layer of the SAE
 * @param hookName         TransformerLens hook name, e.g. {@code blocks.12.hook_resid_post}
 * @param saeId            the SAE's id
 * @param dSae             number of SAE features
 * @param neuronpediaId    {@code model/source} on Neuronpedia (e.g. {@code gemma-2-2b/12-gemmascope-res-16k}), or null
 * @param contextLength    tokens per context, BOS included
 * @param contexts         contexts scanned
 * @param tokens           non-BOS tokens scanned
 * @param densityEdges     log10-density histogram edges (ascending)
 * @param densityCounts    features per density bin, {@code densityEdges.length - 1} of them
 * @param activationEdges  the activation bin edges shared by every feature's histogram (ascending)
 */
record AtlasInfo(ObjectNode raw, String model, int layer, String hookName, String saeId, int dSae, String neuronpediaId,
                 int contextLength, long contexts, long tokens, double[] densityEdges, long[] densityCounts,
                 double[] activationEdges) {
    static final String FILE_NAME = "atlas.json";
    static final String FORMAT = "jlens-atlas/1";

    AtlasInfo {
        Objects.requireNonNull(raw, "raw");
        if (dSae < 1) throw new IllegalArgumentException("d_sae must be >= 1, got " + dSae);
        if (densityCounts.length != densityEdges.length - 1) {
            throw new IllegalArgumentException("density histogram: " + densityCounts.length + " counts for "
                    + densityEdges.length + " edges");
        }
    }

    /** Reads and checks {@code dir/atlas.json}. */
    static AtlasInfo read(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) throw new FormatException(file, "file", "missing: not an atlas folder");
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new FormatException(file, "json", "not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) throw new FormatException(file, "root", "expected a JSON object");
        JsonFields f = new JsonFields(file, "", root);
        String format = f.text("format");
        if (!FORMAT.equals(format)) throw f.error("format", "expected \"" + FORMAT + "\", found \"" + format + "\"");
        JsonFields sae = f.object("sae");
        JsonFields density = f.object("density_histogram");
        double[] densityEdges = edges(density, "edges");
        long[] densityCounts = counts(density, "counts");
        if (densityCounts.length != densityEdges.length - 1) {
            throw density.error("counts", densityCounts.length + " counts for " + densityEdges.length + " edges");
        }
        int dSae = sae.intValue("d_sae");
        if (dSae < 1) throw sae.error("d_sae", "must be >= 1, got " + dSae);
        return new AtlasInfo((ObjectNode) root, f.text("model"), f.intValue("layer"), f.text("hook_name"), sae.text("id"),
                dSae, sae.optionalText("neuronpedia_id"), f.intValue("context_length"), f.longValue("contexts"),
                f.longValue("tokens"), densityEdges, densityCounts, edges(f.object("activation_bins"), "edges"));
    }

    /** Number of shared activation bins. */
    int activationBins() {
        return activationEdges.length - 1;
    }

    private static double[] edges(JsonFields f, String name) throws FormatException {
        JsonNode a = f.array(name, false);
        if (a.size() < 2) throw f.error(name, "needs at least 2 edges, found " + a.size());
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = f.number(name, i, a.get(i));
            if (i > 0 && !(v[i] > v[i - 1])) throw f.error(name + "[" + i + "]", "edges must increase: " + v[i - 1] + " then " + v[i]);
        }
        return v;
    }

    private static long[] counts(JsonFields f, String name) throws FormatException {
        JsonNode a = f.array(name, false);
        long[] v = new long[a.size()];
        for (int i = 0; i < v.length; i++) v[i] = f.count(name, i, a.get(i));
        return v;
    }
}
