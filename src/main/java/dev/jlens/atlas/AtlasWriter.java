package dev.jlens.atlas;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.DType;
import dev.jlens.formats.NpyWriter;
import dev.jlens.util.Json;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Writes one SAE's atlas folder (documented in docs/atlas.md): {@code features.jsonl} (one line per fired
 * feature), {@code atlas.json} (run metadata, the density histogram, the shared activation bins),
 * {@code density.npy} and {@code max.npy} (float32 [d_sae]). Every file is written atomically, atlas.json last,
 * so a folder with atlas.json is complete. The bytes depend only on the merged statistics, the windows and the
 * model: an embedded run and a distributed one write the same files.
 */
public final class AtlasWriter {
    /** log10(density) histogram: DENSITY_BINS bins from DENSITY_MIN to 0. */
    public static final int DENSITY_BINS = 40;
    public static final double DENSITY_MIN = -10.0;

    private AtlasWriter() {}

    /** Everything that goes into one folder. {@code logits.get(i)} belongs to {@code stats.firedFeatures()[i]}. */
    public record Input(Path dir, Map<String, Object> meta, FeatureStats stats, int sae, WindowRequests.Results windows,
                        List<LogitLens.Lists> logits, IntFunction<String> tokenText, AtlasSettings settings) {}

    public static void write(Input in) throws IOException {
        FeatureStats st = in.stats();
        int[] fired = st.firedFeatures();
        if (in.logits().size() != fired.length) throw new IllegalArgumentException(in.logits().size() + " logit lists for " + fired.length + " fired features");
        AtomicFiles.writeStream(in.dir().resolve("features.jsonl"), os -> {
            try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(os, JsonEncoding.UTF8)) {
                g.setPrettyPrinter(null);
                g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
                for (int i = 0; i < fired.length; i++) {
                    feature(g, in, fired[i], in.logits().get(i));
                    g.flush();
                    os.write('\n');
                }
            }
        });
        float[] density = new float[st.dSae()];
        float[] max = new float[st.dSae()];
        long[] hist = new long[DENSITY_BINS];
        for (int f : fired) {
            double d = density(st, f);
            density[f] = (float) d;
            max[f] = st.max(f);
            hist[densityBin(d)]++;
        }
        NpyWriter.write(in.dir().resolve("density.npy"), DType.F32, new long[] {st.dSae()}, MemorySegment.ofArray(density));
        NpyWriter.write(in.dir().resolve("max.npy"), DType.F32, new long[] {st.dSae()}, MemorySegment.ofArray(max));
        Map<String, Object> meta = new LinkedHashMap<>(in.meta());
        meta.put("tokens", st.tokens());
        meta.put("contexts", st.contexts());
        meta.put("features_fired", fired.length);
        meta.put("features_dead", st.dSae() - fired.length);
        double[] dEdges = new double[DENSITY_BINS + 1];
        for (int i = 0; i <= DENSITY_BINS; i++) dEdges[i] = DENSITY_MIN - DENSITY_MIN * i / DENSITY_BINS;
        meta.put("density_histogram", ordered("edges", dEdges, "counts", hist));
        meta.put("activation_bins", ordered("edges", ActivationBins.edges(),
                "note", "half-octave bins; the first also holds smaller values, the last larger ones"));
        Json.write(in.dir().resolve("atlas.json"), sorted(meta));
    }

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    private static Map<String, Object> sorted(Map<String, Object> m) {
        return new java.util.TreeMap<>(m);
    }

    /** fires / tokens (0 when no token was scanned). */
    public static double density(FeatureStats st, int f) {
        return st.tokens() == 0 ? 0.0 : (double) st.fires(f) / st.tokens();
    }

    /** The log10-density bin of a positive density (densities below 10^DENSITY_MIN go to bin 0). */
    public static int densityBin(double d) {
        double x = Math.log10(d);
        int b = (int) Math.floor((x - DENSITY_MIN) / (-DENSITY_MIN) * DENSITY_BINS);
        return Math.max(0, Math.min(DENSITY_BINS - 1, b));
    }

    private static void feature(JsonGenerator g, Input in, int f, LogitLens.Lists logits) throws IOException {
        FeatureStats st = in.stats();
        g.writeStartObject();
        g.writeNumberField("feature", f);
        g.writeNumberField("fires", st.fires(f));
        g.writeNumberField("tokens", st.tokens());
        g.writeNumberField("density", density(st, f));
        g.writeNumberField("max", st.max(f));
        g.writeNumberField("mean", (float) st.mean(f));
        long[] h = st.histogram(f);
        int lo = 0, hi = h.length;
        while (lo < hi && h[lo] == 0) lo++;
        while (hi > lo && h[hi - 1] == 0) hi--;
        g.writeObjectFieldStart("histogram");
        g.writeNumberField("lo", lo);
        g.writeArrayFieldStart("counts");
        for (int i = lo; i < hi; i++) g.writeNumber(h[i]);
        g.writeEndArray();
        g.writeEndObject();
        g.writeArrayFieldStart("top");
        for (FeatureStats.Example e : st.top(f)) example(g, in, f, e);
        g.writeEndArray();
        g.writeArrayFieldStart("quantiles");
        List<List<FeatureStats.Example>> q = st.quantiles(f, in.settings().quantileIntervals(), in.settings().quantileExamples());
        for (int j = 0; j < q.size(); j++) {
            g.writeStartObject();
            g.writeNumberField("lo", (float) FeatureStats.intervalLow(j, st.max(f), q.size()));
            g.writeNumberField("hi", (float) FeatureStats.intervalLow(j + 1, st.max(f), q.size()));
            g.writeArrayFieldStart("examples");
            for (FeatureStats.Example e : q.get(j)) example(g, in, f, e);
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeObjectFieldStart("logits");
        logitList(g, "positive", logits.positive(), in.tokenText());
        logitList(g, "negative", logits.negative(), in.tokenText());
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void logitList(JsonGenerator g, String name, List<LogitLens.Entry> l, IntFunction<String> text) throws IOException {
        g.writeArrayFieldStart(name);
        for (LogitLens.Entry e : l) {
            g.writeStartArray();
            g.writeString(text.apply(e.token()));
            g.writeNumber(e.value());
            g.writeEndArray();
        }
        g.writeEndArray();
    }

    private static void example(JsonGenerator g, Input in, int f, FeatureStats.Example e) throws IOException {
        Window w = in.windows().get(in.sae(), e.context(), f);
        if (w == null) throw new IllegalStateException("no window computed for feature " + f + " in context " + e.context());
        int at = e.position() - w.start();
        if (at < 0 || at >= w.values().length || Float.compare(w.values()[at], e.value()) != 0) {
            throw new IllegalStateException("feature " + f + ", context " + e.context() + ": the second pass gave "
                    + (at >= 0 && at < w.values().length ? w.values()[at] : "nothing") + " at position " + e.position()
                    + ", the first " + e.value() + " (the capture is not reproducible)");
        }
        g.writeStartObject();
        g.writeNumberField("context", e.context());
        g.writeNumberField("position", e.position());
        g.writeNumberField("value", e.value());
        g.writeNumberField("start", w.start());
        g.writeArrayFieldStart("tokens");
        for (int t : w.tokens()) g.writeString(in.tokenText().apply(t));
        g.writeEndArray();
        g.writeArrayFieldStart("token_ids");
        for (int t : w.tokens()) g.writeNumber(t);
        g.writeEndArray();
        g.writeArrayFieldStart("values");
        for (float v : w.values()) g.writeNumber(v);
        g.writeEndArray();
        g.writeEndObject();
    }
}
