package dev.jlens.atlas.browser;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.FormatException;
import dev.jlens.util.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Exports an atlas folder as the {@code batch-N.json} files SAEDashboard's Neuronpedia runner writes (and
 * Neuronpedia's converter imports): per batch {@code model_id}, {@code layer}, {@code sae_set},
 * {@code sae_id_suffix} and {@code features}, each feature with its logit-lens lists ({@code pos_str},
 * {@code pos_values}, {@code neg_str}, {@code neg_values}), {@code frac_nonzero}, the activation histogram
 * ({@code freq_hist_data_bar_values} / {@code _heights}) and {@code activations}: the top examples
 * ({@code bin_min = -1}, {@code bin_max} = the max, {@code bin_contains = -1}) then the quantile intervals from the
 * highest down, each with {@code tokens}, {@code values} and {@code qualifying_token_index}. Fields the atlas does not
 * compute (neuron alignment, correlated neurons and features, the logit histogram, decoder weight distribution) are
 * written as empty lists, as SAEDashboard does when it skips them. Plus {@code skipped_indexes.json}: the features
 * that never fired. docs/atlas-browser.md maps every field to its atlas source.
 *
 * <p>Reads {@code features.jsonl} once, streaming; holds one batch at a time. Each file is written atomically;
 * {@code batch-N.json} files left in {@code outDir} by an earlier, longer export are deleted, so the folder holds
 * exactly this export.
 */
public final class NeuronpediaExport {
    public static final int DEFAULT_FEATURES_PER_BATCH = 128;
    public static final String SKIPPED_FILE = "skipped_indexes.json";
    private static final Pattern BATCH_FILE = Pattern.compile("batch-(\\d+)\\.json");
    private static final Pattern NEURONPEDIA_ID = Pattern.compile("([^/]+)/(\\d+)-([^/]+)");

    private NeuronpediaExport() {}

    /**
     * Where the features go on Neuronpedia: the model id (e.g. {@code gemma-2-2b}), the layer and the SAE set
     * (e.g. {@code gemmascope-res-16k}); the source id is {@code layer-saeSet}.
     */
    public record Target(String modelId, int layer, String saeSet) {
        public Target {
            requireName(modelId, "modelId");
            requireName(saeSet, "saeSet");
            if (layer < 0) throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        }

        private static void requireName(String s, String what) {
            Objects.requireNonNull(s, what);
            if (s.isBlank() || s.contains("/")) throw new IllegalArgumentException(what + " must be non-blank without '/': \"" + s + "\"");
        }
    }

    /** What an export wrote. */
    public record Written(List<Path> batches, Path skippedIndexes, int features, int skipped) {
        public Written {
            batches = List.copyOf(batches);
        }
    }

    /** Exports with the target named by the atlas ({@link #target}) and {@link #DEFAULT_FEATURES_PER_BATCH}. */
    public static Written write(Path atlasDir, Path outDir) throws IOException {
        return write(atlasDir, outDir, target(atlasDir), DEFAULT_FEATURES_PER_BATCH);
    }

    /**
     * Writes {@code outDir/batch-0.json ...} ({@code featuresPerBatch} live features each, ascending ids) and
     * {@code outDir/skipped_indexes.json}.
     *
     * @throws FormatException when the atlas folder does not follow the atlas format (names file, line and field)
     */
    public static Written write(Path atlasDir, Path outDir, Target target, int featuresPerBatch) throws IOException {
        Objects.requireNonNull(atlasDir, "atlasDir");
        Objects.requireNonNull(outDir, "outDir");
        Objects.requireNonNull(target, "target");
        if (featuresPerBatch < 1) throw new IllegalArgumentException("featuresPerBatch must be >= 1, got " + featuresPerBatch);
        AtlasInfo info = AtlasInfo.read(atlasDir);
        Files.createDirectories(outDir);
        List<Path> batches = new ArrayList<>();
        boolean[] fired = new boolean[info.dSae()];
        List<AtlasFeature> batch = new ArrayList<>(featuresPerBatch);
        int features = 0;
        try (FeatureReader reader = FeatureReader.open(atlasDir, info)) {
            for (AtlasFeature f; (f = reader.next()) != null; ) {
                fired[f.feature()] = true;
                features++;
                batch.add(f);
                if (batch.size() == featuresPerBatch) {
                    batches.add(writeBatch(outDir, batches.size(), target, info, batch));
                    batch.clear();
                }
            }
        }
        if (!batch.isEmpty()) batches.add(writeBatch(outDir, batches.size(), target, info, batch));
        List<Integer> skipped = new ArrayList<>();
        for (int i = 0; i < fired.length; i++) if (!fired[i]) skipped.add(i);
        Path skippedFile = outDir.resolve(SKIPPED_FILE);
        AtomicFiles.writeStream(skippedFile, out -> {
            try (JsonGenerator g = generator(out)) {
                writeSkipped(g, target, skipped);
            }
        });
        deleteStaleBatches(outDir, batches.size());
        return new Written(batches, skippedFile, features, skipped.size());
    }

    /**
     * The target the atlas names: from {@code sae.neuronpedia_id} ({@code model/layer-set}, whose layer must be the
     * atlas's) when set; otherwise the model file's name without extension (lower case) and the SAE id with every
     * character outside {@code [a-z0-9._-]} made '-', which are placeholders: pass a {@link Target} for a real upload.
     */
    public static Target target(Path atlasDir) throws IOException {
        AtlasInfo info = AtlasInfo.read(atlasDir);
        String id = info.neuronpediaId();
        if (id == null) {
            String file = Path.of(info.model()).getFileName().toString();
            String stem = file.contains(".") ? file.substring(0, file.lastIndexOf('.')) : file;
            return new Target(slug(stem), info.layer(), slug(info.saeId()));
        }
        Matcher m = NEURONPEDIA_ID.matcher(id);
        if (!m.matches()) {
            throw new FormatException(atlasDir.resolve(AtlasInfo.FILE_NAME), "sae.neuronpedia_id",
                    "expected model/layer-set (e.g. gemma-2-2b/12-gemmascope-res-16k), found \"" + id + "\"");
        }
        int layer = Integer.parseInt(m.group(2));
        if (layer != info.layer()) {
            throw new FormatException(atlasDir.resolve(AtlasInfo.FILE_NAME), "sae.neuronpedia_id",
                    "names layer " + layer + " but the atlas is of layer " + info.layer() + ": \"" + id + "\"");
        }
        return new Target(m.group(1), layer, m.group(3));
    }

    private static String slug(String s) {
        String out = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9._-]+", "-").replaceAll("^-+|-+$", "");
        return out.isEmpty() ? "sae" : out;
    }

    static String batchFileName(int n) {
        return "batch-" + n + ".json";
    }

    private static Path writeBatch(Path outDir, int n, Target target, AtlasInfo info, List<AtlasFeature> features) throws IOException {
        Path file = outDir.resolve(batchFileName(n));
        AtomicFiles.writeStream(file, out -> {
            try (JsonGenerator g = generator(out)) {
                g.writeStartObject();
                g.writeStringField("model_id", target.modelId());
                g.writeNumberField("layer", target.layer());
                g.writeStringField("sae_set", target.saeSet());
                g.writeNullField("sae_id_suffix");
                g.writeArrayFieldStart("features");
                for (AtlasFeature f : features) writeFeature(g, info, f);
                g.writeEndArray();
                g.writeEndObject();
            }
        });
        return file;
    }

    /** One feature in SAEDashboard's field order (NeuronpediaDashboardFeature.to_dict). */
    private static void writeFeature(JsonGenerator g, AtlasInfo info, AtlasFeature f) throws IOException {
        g.writeStartObject();
        g.writeNumberField("feature_index", f.feature());
        for (String notComputed : List.of("neuron_alignment_indices", "neuron_alignment_values", "neuron_alignment_l1",
                "correlated_neurons_indices", "correlated_neurons_l1", "correlated_neurons_pearson",
                "correlated_features_indices", "correlated_features_l1", "correlated_features_pearson")) {
            emptyList(g, notComputed);
        }
        logits(g, "neg_str", "neg_values", f.negative());
        logits(g, "pos_str", "pos_values", f.positive());
        g.writeNumberField("frac_nonzero", f.density());
        double[] edges = info.activationEdges();
        g.writeArrayFieldStart("freq_hist_data_bar_values");
        for (int b = 0; b < f.histCounts().length; b++) {
            int bin = f.histLo() + b;
            g.writeNumber((edges[bin] + edges[bin + 1]) / 2);
        }
        g.writeEndArray();
        g.writeArrayFieldStart("freq_hist_data_bar_heights");
        for (long c : f.histCounts()) g.writeNumber(c);
        g.writeEndArray();
        emptyList(g, "logits_hist_data_bar_heights");
        emptyList(g, "logits_hist_data_bar_values");
        g.writeNumberField("n_prompts_total", info.contexts());
        g.writeNumberField("n_tokens_in_prompt", info.contextLength());
        String dataset = info.raw().path("dataset").isTextual() ? info.raw().get("dataset").textValue() : "";
        g.writeStringField("dataset", dataset);
        emptyList(g, "decoder_weights_dist");
        g.writeArrayFieldStart("activations");
        for (AtlasFeature.Example e : f.top()) activation(g, e, -1, f.max(), -1);
        for (AtlasFeature.Interval q : f.quantiles().reversed()) {
            double contains = intervalFraction(info, f, q.lo(), q.hi());
            for (AtlasFeature.Example e : q.examples()) activation(g, e, q.lo(), q.hi(), contains);
        }
        g.writeEndArray();
        emptyList(g, "vector");
        g.writeEndObject();
    }

    /**
     * One example as a NeuronpediaDashboardActivation. SAEDashboard's token lists leave out the BOS token (and its
     * {@code qualifying_token_index} counts from the first token after it), so a window that starts at the context's
     * BOS drops it here too.
     */
    private static void activation(JsonGenerator g, AtlasFeature.Example e, double binMin, double binMax, double binContains)
            throws IOException {
        int from = e.start() == 0 ? 1 : 0;
        g.writeStartObject();
        g.writeNumberField("bin_min", binMin);
        g.writeNumberField("bin_max", binMax);
        g.writeNumberField("bin_contains", binContains);
        g.writeArrayFieldStart("tokens");
        for (int i = from; i < e.tokens().size(); i++) g.writeString(e.tokens().get(i));
        g.writeEndArray();
        g.writeArrayFieldStart("values");
        for (int i = from; i < e.values().length; i++) g.writeNumber(e.values()[i]);
        g.writeEndArray();
        g.writeNumberField("qualifying_token_index", e.maxIndex() - from);
        g.writeEndObject();
    }

    /**
     * SAEDashboard's "CONTAINS x%" of an interval: the fraction of all scanned tokens whose activation lies in
     * [lo, hi], tokens where the feature did not fire included when lo is 0 (it tests {@code act >= lo}). The atlas
     * keeps no per-token activations, so firing tokens are counted from the feature's histogram, spreading each
     * bin's count evenly over the part of the bin below the feature's max: an approximation within one bin width at
     * each end of the interval. Intervals that tile [0, max] sum to 1.
     */
    static double intervalFraction(AtlasInfo info, AtlasFeature f, double lo, double hi) {
        if (f.tokens() <= 0) return 0;
        double[] edges = info.activationEdges();
        double count = lo <= 0 ? f.tokens() - f.fires() : 0;
        for (int b = 0; b < f.histCounts().length; b++) {
            double e0 = edges[f.histLo() + b];
            double e1 = Math.min(edges[f.histLo() + b + 1], f.max());
            if (e1 <= e0) { // all of the bin's activations equal the max, at its lower edge
                if (e0 >= lo && (e0 < hi || hi >= f.max())) count += f.histCounts()[b];
                continue;
            }
            double overlap = Math.min(e1, hi) - Math.max(e0, lo);
            if (overlap > 0) count += f.histCounts()[b] * overlap / (e1 - e0);
        }
        return Math.clamp(count / f.tokens(), 0, 1);
    }

    /** A compact generator that leaves {@code out} open for {@link AtomicFiles} to flush and sync. */
    private static JsonGenerator generator(java.io.OutputStream out) throws IOException {
        return Json.MAPPER.getFactory().createGenerator(out).disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    }

    private static void logits(JsonGenerator g, String strField, String valueField, List<AtlasFeature.Logit> logits) throws IOException {
        g.writeArrayFieldStart(strField);
        for (AtlasFeature.Logit l : logits) g.writeString(l.token());
        g.writeEndArray();
        g.writeArrayFieldStart(valueField);
        for (AtlasFeature.Logit l : logits) g.writeNumber(l.value());
        g.writeEndArray();
    }

    private static void emptyList(JsonGenerator g, String field) throws IOException {
        g.writeArrayFieldStart(field);
        g.writeEndArray();
    }

    /** As SAEDashboard's runner writes it (layer as a string; log_sparsity its default threshold, 1). */
    private static void writeSkipped(JsonGenerator g, Target target, List<Integer> skipped) throws IOException {
        g.writeStartObject();
        g.writeStringField("model_id", target.modelId());
        g.writeStringField("layer", Integer.toString(target.layer()));
        g.writeStringField("sae_set", target.saeSet());
        g.writeNumberField("log_sparsity", 1);
        g.writeArrayFieldStart("skipped_indexes");
        for (int i : skipped) g.writeNumber(i);
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void deleteStaleBatches(Path outDir, int written) throws IOException {
        try (Stream<Path> files = Files.list(outDir)) {
            for (Path p : files.toList()) {
                Matcher m = BATCH_FILE.matcher(p.getFileName().toString());
                if (m.matches() && (m.group(1).length() > 9 || Integer.parseInt(m.group(1)) >= written)) Files.delete(p);
            }
        }
    }
}
