package dev.jlens.atlas.browser;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.util.List;

/**
 * A feature as the browser's page files hold it: the {@code features.jsonl} object with the same field names, less
 * the token ids (the page shows texts), with zero activations written as {@code 0}.
 */
final class FeatureJson {
    private FeatureJson() {}

    static void write(JsonGenerator g, AtlasFeature f) throws IOException {
        g.writeStartObject();
        g.writeNumberField("feature", f.feature());
        g.writeNumberField("fires", f.fires());
        g.writeNumberField("tokens", f.tokens());
        g.writeNumberField("density", f.density());
        g.writeNumberField("max", f.max());
        g.writeNumberField("mean", f.mean());
        g.writeObjectFieldStart("histogram");
        g.writeNumberField("lo", f.histLo());
        g.writeArrayFieldStart("counts");
        for (long c : f.histCounts()) g.writeNumber(c);
        g.writeEndArray();
        g.writeEndObject();
        g.writeFieldName("top");
        examples(g, f.top());
        g.writeArrayFieldStart("quantiles");
        for (AtlasFeature.Interval q : f.quantiles()) {
            g.writeStartObject();
            g.writeNumberField("lo", q.lo());
            g.writeNumberField("hi", q.hi());
            g.writeFieldName("examples");
            examples(g, q.examples());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeObjectFieldStart("logits");
        g.writeFieldName("positive");
        logits(g, f.positive());
        g.writeFieldName("negative");
        logits(g, f.negative());
        g.writeEndObject();
        g.writeEndObject();
    }

    private static void examples(JsonGenerator g, List<AtlasFeature.Example> examples) throws IOException {
        g.writeStartArray();
        for (AtlasFeature.Example e : examples) {
            g.writeStartObject();
            g.writeNumberField("context", e.context());
            g.writeNumberField("position", e.position());
            g.writeNumberField("start", e.start());
            g.writeNumberField("value", e.value());
            g.writeArrayFieldStart("tokens");
            for (String t : e.tokens()) g.writeString(t);
            g.writeEndArray();
            g.writeArrayFieldStart("values");
            for (float v : e.values()) ScriptData.number(g, v);
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void logits(JsonGenerator g, List<AtlasFeature.Logit> logits) throws IOException {
        g.writeStartArray();
        for (AtlasFeature.Logit l : logits) {
            g.writeStartArray();
            g.writeString(l.token());
            g.writeNumber(l.value());
            g.writeEndArray();
        }
        g.writeEndArray();
    }
}
