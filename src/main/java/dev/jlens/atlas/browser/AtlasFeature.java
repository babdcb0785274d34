package dev.jlens.atlas.browser;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.formats.FormatException;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One line of {@code features.jsonl}: a feature that fired at least once, with its statistics and examples.
 *
 * @param feature    feature index in [0, d_sae)
 * @param fires      tokens on which it fired
 * @param tokens     tokens scanned (its denominator)
 * @param density    fires / tokens
 * @param max        its largest activation
 * @param mean       mean activation over the tokens it fired on
 * @param histLo     index of the shared activation bin of {@code histCounts[0]}
 * @param histCounts firing tokens per shared activation bin, from bin {@code histLo} on
 * @param top        top-activating examples, by value descending
 * @param quantiles  equal-width intervals of [0, max] with examples sampled in each
 * @param positive   logit-lens tokens the feature promotes most, with their logit contribution
 * @param negative   logit-lens tokens it suppresses most
 */
record AtlasFeature(int feature, long fires, long tokens, double density, float max, float mean, int histLo,
                    long[] histCounts, List<Example> top, List<Interval> quantiles, List<Logit> positive,
                    List<Logit> negative) {

    AtlasFeature {
        if (feature < 0) throw new IllegalArgumentException("feature must be >= 0, got " + feature);
        if (histLo < 0) throw new IllegalArgumentException("histogram lo must be >= 0, got " + histLo);
        top = List.copyOf(top);
        quantiles = List.copyOf(quantiles);
        positive = List.copyOf(positive);
        negative = List.copyOf(negative);
    }

    /**
     * One context window around the token where the feature peaked in that context.
     *
     * @param context  context id
     * @param position context index of the max token (BOS = 0)
     * @param value    the activation on that token
     * @param start    context index of {@code tokens[0]}
     * @param tokens   the window's token texts
     * @param tokenIds the window's token ids (empty when the atlas did not write them)
     * @param values   the feature's activation on each window token
     */
    record Example(long context, int position, float value, int start, List<String> tokens, int[] tokenIds, float[] values) {
        Example {
            tokens = List.copyOf(tokens);
            if (values.length != tokens.size()) throw new IllegalArgumentException(values.length + " values for " + tokens.size() + " tokens");
            if (tokenIds.length != 0 && tokenIds.length != tokens.size()) {
                throw new IllegalArgumentException(tokenIds.length + " token ids for " + tokens.size() + " tokens");
            }
            if (position - start < 0 || position - start >= tokens.size()) { // fields are not assigned yet: no maxIndex()
                throw new IllegalArgumentException("position " + position + " is outside the window [" + start + ", "
                        + (start + tokens.size()) + ")");
            }
        }

        /** Index of the max token in {@link #tokens()}. */
        int maxIndex() {
            return position - start;
        }

        /** The text of the token the feature peaked on. */
        String maxToken() {
            return tokens.get(maxIndex());
        }
    }

    /** Examples whose value lies in [lo, hi]. */
    record Interval(double lo, double hi, List<Example> examples) {
        Interval {
            examples = List.copyOf(examples);
        }
    }

    /** A vocabulary token and its logit-lens value. */
    record Logit(String token, double value) {
        Logit {
            Objects.requireNonNull(token, "token");
        }
    }

    /** Parses one {@code features.jsonl} object; {@code activationBins} bounds the histogram. */
    static AtlasFeature parse(JsonFields f, int activationBins) throws FormatException {
        JsonFields hist = f.object("histogram");
        int lo = hist.intValue("lo");
        JsonNode countsNode = hist.array("counts", false);
        long[] counts = new long[countsNode.size()];
        for (int i = 0; i < counts.length; i++) counts[i] = hist.count("counts", i, countsNode.get(i));
        if (lo < 0 || lo + counts.length > activationBins) {
            throw hist.error("lo", "bins [" + lo + ", " + (lo + counts.length) + ") are outside the " + activationBins
                    + " shared activation bins");
        }
        long fires = f.longValue("fires");
        double max = f.doubleValue("max");
        JsonNode logits = f.node().get("logits");
        JsonFields lens = logits == null || logits.isNull() ? null : f.object("logits");
        return new AtlasFeature(f.intValue("feature"), fires, f.longValue("tokens"), f.doubleValue("density"), (float) max,
                (float) f.doubleValue("mean"), lo, counts, examples(f, "top", f.array("top", false)),
                intervals(f), lens == null ? List.of() : logits(lens, "positive"),
                lens == null ? List.of() : logits(lens, "negative"));
    }

    private static List<Interval> intervals(JsonFields f) throws FormatException {
        JsonNode a = f.array("quantiles", true);
        List<Interval> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            JsonFields q = f.element("quantiles", i, a.get(i));
            out.add(new Interval(q.doubleValue("lo"), q.doubleValue("hi"), examples(q, "examples", q.array("examples", false))));
        }
        return out;
    }

    private static List<Example> examples(JsonFields parent, String name, JsonNode a) throws FormatException {
        List<Example> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) out.add(example(parent.element(name, i, a.get(i))));
        return out;
    }

    private static Example example(JsonFields e) throws FormatException {
        JsonNode tokensNode = e.array("tokens", false);
        List<String> tokens = new ArrayList<>(tokensNode.size());
        for (int i = 0; i < tokensNode.size(); i++) tokens.add(e.string("tokens", i, tokensNode.get(i)));
        JsonNode valuesNode = e.array("values", false);
        float[] values = new float[valuesNode.size()];
        for (int i = 0; i < values.length; i++) values[i] = (float) e.number("values", i, valuesNode.get(i));
        JsonNode idsNode = e.array("token_ids", true);
        int[] ids = new int[idsNode.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = (int) e.count("token_ids", i, idsNode.get(i));
        int position = e.intValue("position");
        int start = e.intValue("start");
        try {
            return new Example(e.longValue("context"), position, (float) e.doubleValue("value"), start, tokens, ids, values);
        } catch (IllegalArgumentException bad) {
            throw e.error("tokens", bad.getMessage());
        }
    }

    private static List<Logit> logits(JsonFields lens, String name) throws FormatException {
        JsonNode a = lens.array(name, true);
        List<Logit> out = new ArrayList<>(a.size());
        for (int i = 0; i < a.size(); i++) {
            JsonNode pair = a.get(i);
            if (!pair.isArray() || pair.size() != 2) throw lens.error(name + "[" + i + "]", "expected [token, value]");
            out.add(new Logit(lens.string(name + "[" + i + "]", 0, pair.get(0)), lens.number(name + "[" + i + "]", 1, pair.get(1))));
        }
        return out;
    }
}
