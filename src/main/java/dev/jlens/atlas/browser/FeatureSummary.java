package dev.jlens.atlas.browser;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The per-feature columns the overview loads at once (id, density, max, mean, fires and the commonest max tokens):
 * small enough for 16k features, so the table sorts and filters without loading any page file.
 */
final class FeatureSummary {
    /** Distinct max tokens kept per feature in the summary. */
    static final int TOP_TOKENS = 3;

    /** One feature's summary. */
    record Row(int feature, double density, float max, float mean, long fires, List<String> topTokens) {
        Row {
            topTokens = List.copyOf(topTokens);
        }
    }

    private final List<Row> rows = new ArrayList<>();

    /** Keeps {@code f}'s summary (its examples are not kept). */
    void add(AtlasFeature f) {
        rows.add(new Row(f.feature(), f.density(), f.max(), f.mean(), f.fires(), topTokens(f, TOP_TOKENS)));
    }

    int size() {
        return rows.size();
    }

    /**
     * The commonest max tokens of {@code f}'s top examples, at most {@code n}: most examples first, ties by the
     * best example (top examples come by value descending, so first appearance).
     */
    static List<String> topTokens(AtlasFeature f, int n) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (AtlasFeature.Example e : f.top()) counts.merge(e.maxToken(), 1, Integer::sum);
        List<Map.Entry<String, Integer>> order = new ArrayList<>(counts.entrySet());
        order.sort(Map.Entry.<String, Integer>comparingByValue().reversed()); // stable: ties keep first appearance
        List<String> out = new ArrayList<>(Math.min(n, order.size()));
        for (int i = 0; i < Math.min(n, order.size()); i++) out.add(order.get(i).getKey());
        return out;
    }

    /** Writes the columns as one object of parallel arrays. */
    void write(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeArrayFieldStart("id");
        for (Row f : rows) g.writeNumber(f.feature());
        g.writeEndArray();
        g.writeArrayFieldStart("density");
        for (Row f : rows) g.writeNumber(f.density());
        g.writeEndArray();
        g.writeArrayFieldStart("max");
        for (Row f : rows) g.writeNumber(f.max());
        g.writeEndArray();
        g.writeArrayFieldStart("mean");
        for (Row f : rows) g.writeNumber(f.mean());
        g.writeEndArray();
        g.writeArrayFieldStart("fires");
        for (Row f : rows) g.writeNumber(f.fires());
        g.writeEndArray();
        g.writeArrayFieldStart("top");
        for (Row f : rows) {
            g.writeStartArray();
            for (String s : f.topTokens()) g.writeString(s);
            g.writeEndArray();
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
