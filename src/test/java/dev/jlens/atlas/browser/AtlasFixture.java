package dev.jlens.atlas.browser;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

/**
 * Writes a synthetic atlas folder (atlas.json + features.jsonl) in the format {@code jlens atlas} writes, with a
 * structure the tests know: every tenth feature (id % 10 == 7) never fired; feature f's top examples peak on
 * {@code PEAKS[f % PEAKS.length]} (every fourth example on {@code PEAKS[(f + 5) % PEAKS.length]} instead), so
 * "which features fire on token X" has a known answer; the peak tokens include texts that break naive HTML and
 * JavaScript (markup, quotes, control characters, bidi overrides, "__proto__", U+2028, an empty string).
 */
final class AtlasFixture {
    static final String[] PEAKS = {
            " Paris", " France", "<script>alert(1)</script>", " the", "\n", "a\"b'c&amp;", "\u0000", " Berlin",
            "\u202eevil", "", "__proto__", "</script><b>x", "\t", "\u2028", "🙂", "▁Paris", " constructor", "<!--",
            "ing", " Lyon", " ", "\u0085", "Paris", " Seine"};
    static final String[] FILLER = {" The", " capital", " of", " is", " a", " city", ",", ".", " and", " in", " river"};
    static final int CONTEXT_LENGTH = 128;
    static final int WINDOW_BEFORE = 24;
    static final int WINDOW_AFTER = 8;
    static final int QUANTILES = 5;
    static final int QUANTILE_EXAMPLES = 3;
    static final double BIN_WIDTH = 0.25;
    static final int BINS = 160;
    static final long TOKENS = 250_000;
    static final long CONTEXTS = 2_000;

    final int dSae;
    final int topK;

    /** One fixture example: its window and values (the max token is {@code tokens.get(position - start)}). */
    record Example(long context, int position, float value, int start, List<String> tokens, List<Integer> ids, float[] values) {
        String maxToken() {
            return tokens.get(position - start);
        }
    }

    private AtlasFixture(int dSae, int topK) {
        this.dSae = dSae;
        this.topK = topK;
    }

    /** Writes the atlas folder into {@code dir}. */
    static AtlasFixture write(Path dir, int dSae, int topK, String neuronpediaId) throws IOException {
        AtlasFixture fx = new AtlasFixture(dSae, topK);
        ObjectMapper json = new ObjectMapper();
        Files.createDirectories(dir);
        try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("features.jsonl"), StandardCharsets.UTF_8)) {
            for (int f = 0; f < dSae; f++) {
                if (!fx.alive(f)) continue;
                w.write(json.writeValueAsString(fx.featureJson(json, f)));
                w.write('\n');
            }
        }
        Files.writeString(dir.resolve("atlas.json"), json.writerWithDefaultPrettyPrinter()
                .writeValueAsString(fx.atlasJson(json, neuronpediaId)));
        return fx;
    }

    boolean alive(int f) {
        return f % 10 != 7;
    }

    List<Integer> aliveFeatures() {
        List<Integer> out = new ArrayList<>();
        for (int f = 0; f < dSae; f++) if (alive(f)) out.add(f);
        return out;
    }

    long fires(int f) {
        return 1 + (f * 7919L) % 20_000;
    }

    double density(int f) {
        return (double) fires(f) / TOKENS;
    }

    float max(int f) {
        return 2.5f + (f % 97) * 0.25f + 0.125f;
    }

    float mean(int f) {
        return max(f) * 0.375f;
    }

    /** Number of top examples of a live feature: all {@code topK} for every fifth, fewer for the others. */
    int nTop(int f) {
        return f % 5 == 0 ? topK : Math.min(topK, 3 + f % topK);
    }

    /** The top examples of a live feature, by value descending. */
    List<Example> top(int f) {
        List<Example> out = new ArrayList<>();
        int n = nTop(f);
        for (int i = 0; i < n; i++) {
            float value = max(f) * (1f - i * 0.03125f);
            String peak = i % 4 == 3 ? PEAKS[(f + 5) % PEAKS.length] : PEAKS[f % PEAKS.length];
            out.add(example(new Random(f * 1000L + i), f * 37L + i, value, peak));
        }
        return out;
    }

    /** Features (ascending) with a top example whose max token is one of {@code forms}. */
    List<Integer> featuresPeakingOn(Collection<String> forms) {
        TreeSet<Integer> out = new TreeSet<>();
        for (int f : aliveFeatures()) {
            for (Example e : top(f)) if (forms.contains(e.maxToken())) out.add(f);
        }
        return new ArrayList<>(out);
    }

    /** Number of {@code f}'s top examples peaking on one of {@code forms}. */
    int examplesPeakingOn(int f, Collection<String> forms) {
        int n = 0;
        for (Example e : top(f)) if (forms.contains(e.maxToken())) n++;
        return n;
    }

    private Example example(Random rnd, long context, float value, String peak) {
        int position = 1 + rnd.nextInt(CONTEXT_LENGTH - 1);
        int start = Math.max(0, position - WINDOW_BEFORE);
        int end = Math.min(CONTEXT_LENGTH, position + WINDOW_AFTER + 1);
        List<String> tokens = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        float[] values = new float[end - start];
        for (int p = start; p < end; p++) {
            String t;
            if (p == 0) t = "<bos>";
            else if (p == position) t = peak;
            else t = FILLER[rnd.nextInt(FILLER.length)];
            tokens.add(t);
            ids.add(p == 0 ? 2 : 100 + Math.abs(t.hashCode() % 5000));
            // the feature also fires, weaker, on some tokens before the peak and on the one after it
            float v = 0f;
            if (p == position) v = value;
            else if (p > 0 && p < position && (position - p) % 3 == 0) v = value * 0.25f * (1 + rnd.nextInt(3)) / 3f;
            else if (p == position + 1) v = value * 0.5f;
            values[p - start] = v;
        }
        return new Example(context, position, value, start, tokens, ids, values);
    }

    private ObjectNode featureJson(ObjectMapper json, int f) {
        ObjectNode o = json.createObjectNode();
        o.put("feature", f);
        o.put("fires", fires(f));
        o.put("tokens", TOKENS);
        o.put("density", density(f));
        o.put("max", max(f));
        o.put("mean", mean(f));
        ObjectNode hist = o.putObject("histogram");
        int bins = (int) Math.ceil(max(f) / BIN_WIDTH);
        hist.put("lo", 0);
        ArrayNode counts = hist.putArray("counts");
        // most firings are weak: counts fall off exponentially towards the max, the remainder in the first bin
        long[] c = new long[bins];
        double norm = 0;
        for (int b = 0; b < bins; b++) norm += Math.exp(-4.0 * b / bins);
        long placed = 0;
        for (int b = 1; b < bins; b++) placed += c[b] = Math.round(fires(f) * Math.exp(-4.0 * b / bins) / norm);
        c[0] = Math.max(0, fires(f) - placed);
        for (long v : c) counts.add(v);
        ArrayNode top = o.putArray("top");
        for (Example e : top(f)) top.add(exampleJson(json, e));
        ArrayNode qs = o.putArray("quantiles");
        for (int q = 0; q < QUANTILES; q++) {
            ObjectNode qn = qs.addObject();
            float lo = max(f) * q / QUANTILES;
            float hi = max(f) * (q + 1) / QUANTILES;
            qn.put("lo", lo);
            qn.put("hi", hi);
            ArrayNode ex = qn.putArray("examples");
            for (int i = 0; i < QUANTILE_EXAMPLES; i++) {
                float v = lo + (hi - lo) * (i + 1) / (QUANTILE_EXAMPLES + 1);
                ex.add(exampleJson(json, example(new Random(f * 7000L + q * 10 + i), 500_000L + f * 53L + q * 10 + i, v,
                        FILLER[(f + q + i) % FILLER.length])));
            }
        }
        ObjectNode logits = o.putObject("logits");
        ArrayNode pos = logits.putArray("positive");
        ArrayNode neg = logits.putArray("negative");
        for (int i = 0; i < 10; i++) {
            pos.addArray().add(PEAKS[(f + i) % PEAKS.length]).add(3.5f - i * 0.25f);
            neg.addArray().add(FILLER[(f + i) % FILLER.length]).add(-1.5f + i * 0.125f);
        }
        return o;
    }

    private static ObjectNode exampleJson(ObjectMapper json, Example e) {
        ObjectNode o = json.createObjectNode();
        o.put("context", e.context());
        o.put("position", e.position());
        o.put("value", e.value());
        o.put("start", e.start());
        ArrayNode tokens = o.putArray("tokens");
        e.tokens().forEach(tokens::add);
        ArrayNode ids = o.putArray("token_ids");
        e.ids().forEach(ids::add);
        ArrayNode values = o.putArray("values");
        for (float v : e.values()) values.add(v);
        return o;
    }

    private ObjectNode atlasJson(ObjectMapper json, String neuronpediaId) {
        ObjectNode o = json.createObjectNode();
        o.put("format", "jlens-atlas/1");
        o.put("model", "/models/gemma-2-2b-Q8_0.gguf");
        o.put("model_sha256", "0".repeat(64));
        o.put("layer", 12);
        o.put("hook_name", "blocks.12.hook_resid_post");
        ObjectNode sae = o.putObject("sae");
        sae.put("id", "layer_12/width_16k/canonical <&\">");
        sae.put("d_in", 2304);
        sae.put("d_sae", dSae);
        if (neuronpediaId == null) sae.putNull("neuronpedia_id"); else sae.put("neuronpedia_id", neuronpediaId);
        o.put("context_length", CONTEXT_LENGTH);
        o.put("contexts", CONTEXTS);
        o.put("tokens", TOKENS);
        o.put("documents", CONTEXTS);
        o.putObject("skipped").put("too_short", 3);
        o.put("top_k", topK);
        o.put("quantile_intervals", QUANTILES);
        o.put("quantile_examples", QUANTILE_EXAMPLES);
        o.put("window_before", WINDOW_BEFORE);
        o.put("window_after", WINDOW_AFTER);
        o.put("encoder", "vector");
        ObjectNode lens = o.putObject("logit_lens");
        lens.put("convention", "W_dec row times the unembedding, top and bottom 10");
        lens.put("unembedding", "token_embd");
        ObjectNode density = o.putObject("density_histogram");
        ArrayNode edges = density.putArray("edges");
        ArrayNode counts = density.putArray("counts");
        int nBins = 24;
        long[] c = new long[nBins];
        for (int f : aliveFeatures()) {
            int b = (int) Math.floor((Math.log10(density(f)) + 6) / 0.25);
            c[Math.clamp(b, 0, nBins - 1)]++;
        }
        for (int b = 0; b <= nBins; b++) edges.add(-6 + b * 0.25);
        for (long v : c) counts.add(v);
        ArrayNode act = o.putObject("activation_bins").putArray("edges");
        for (int b = 0; b <= BINS; b++) act.add(b * BIN_WIDTH);
        return o;
    }
}
