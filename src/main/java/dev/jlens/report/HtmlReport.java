package dev.jlens.report;

import dev.jlens.api.Decision;
import dev.jlens.api.FeaturePair;
import dev.jlens.api.FeatureStats;
import dev.jlens.api.FeatureStats.TopPrompt;
import dev.jlens.api.SteeringVerdict;
import dev.jlens.api.Verdict;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.report.ReportModel.AnchorSummary;
import dev.jlens.report.ReportModel.CloudPoint;
import dev.jlens.report.ReportModel.CosineMatrix;
import dev.jlens.report.ReportModel.Curve;
import dev.jlens.report.ReportModel.Generation;
import dev.jlens.report.ReportModel.Link;
import dev.jlens.report.ReportModel.Sae;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Writes {@code report.html}: one self-contained file that opens from disk without any network. plotly.js
 * (fetched and verified by {@code scripts/fetch-web-deps.sh}, put on the classpath by Maven) is inlined,
 * the model is embedded as JSON in a {@code <script type="application/json">} element, and the tables are
 * rendered here as escaped HTML.
 *
 * <p>All text in the model is treated as untrusted: it is HTML-escaped in markup, and the embedded JSON has
 * {@code < > &} U+2028 U+2029 written as {@code \}{@code uXXXX} escapes, so no string can close the script
 * element. Non-finite numbers (NaN, ±infinity) are written to the JSON as null and shown as "n/a".
 */
public final class HtmlReport {
    private static final System.Logger LOG = System.getLogger(HtmlReport.class.getName());

    public static final String FILE_NAME = "report.html";
    /** Classpath location of the vendored plotly.js bundle. */
    public static final String PLOTLY_RESOURCE = "/dev/jlens/report/vendor/plotly.min.js";
    /** Id of the element holding the embedded model JSON. */
    public static final String DATA_ELEMENT_ID = "jlens-data";
    /** Id of the element the page's own script fills with its render check (JSON text). */
    public static final String SELF_CHECK_ELEMENT_ID = "jlens-selfcheck";

    private static final ObjectMapper JSON = new ObjectMapper();

    private HtmlReport() {}

    /**
     * Renders the report into {@code outDir/report.html}, written atomically.
     *
     * @return the written file
     * @throws IllegalStateException when plotly.js is not on the classpath (run scripts/fetch-web-deps.sh)
     */
    public static Path write(Path outDir, ReportModel model) throws IOException {
        Objects.requireNonNull(outDir, "outDir");
        Objects.requireNonNull(model, "model");
        String html = render(model, plotlyJs(PLOTLY_RESOURCE));
        Path file = outDir.resolve(FILE_NAME);
        AtomicFiles.writeString(file, html);
        return file;
    }

    /** The vendored plotly.js source at a classpath location. */
    static String plotlyJs(String resourcePath) {
        String js = resource(resourcePath);
        if (js == null) {
            throw new IllegalStateException("plotly.js is not on the classpath at " + resourcePath
                    + "; run scripts/fetch-web-deps.sh (it fetches and verifies the pinned plotly.js-dist-min into"
                    + " native/web/), then rebuild");
        }
        return js;
    }

    /** The full page for {@code model}, with {@code plotlyJs} inlined. */
    static String render(ReportModel model, String plotlyJs) {
        String capture = ownResource("capture.js");
        String script = ownResource("report.js");
        String css = ownResource("report.css");
        StringBuilder h = new StringBuilder(plotlyJs.length() + 200_000);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        // first thing on the page, so errors raised while plotly loads are recorded too
        h.append("<script>\n").append(inlineSafe("capture.js", capture, "</script")).append("\n</script>\n");
        h.append("<title>").append(esc(model.config().title())).append("</title>\n");
        h.append("<style>\n").append(inlineSafe("report.css", css, "</style")).append("\n</style>\n</head>\n<body>\n<main>\n");
        h.append("<h1>").append(esc(model.config().title())).append("</h1>\n");
        toc(h, model);
        summary(h, model);
        definitions(h);
        config(h, model);
        anchors(h, model);
        facetSplit(h, model);
        for (int i = 0; i < model.saes().size(); i++) featureTable(h, model.saes().get(i), i);
        h.append("<section id=\"plots\"><h2>Cross-resolution map</h2>\n")
                .append("<div id=\"plot-heatmap\" class=\"plot\"></div>\n")
                .append("<div id=\"plot-scatter\" class=\"plot\"></div>\n</section>\n");
        h.append("<section id=\"geometry\"><h2>Decoder geometry</h2>\n<p class=\"muted\">Coarse (red) and fine (blue) decoder directions"
                + " on their first three principal components; green segments join matched pairs. Drag to rotate.</p>\n"
                + "<div id=\"plot-cloud\" class=\"plot\"></div>\n</section>\n");
        prompts(h, model);
        if (model.steering() != null) steering(h, model.steering());
        // the page's own render check, for tests and tools: kept in the DOM, never shown to the reader
        h.append("<div class=\"machine\" hidden><pre id=\"").append(SELF_CHECK_ELEMENT_ID).append("\" data-state=\"pending\">pending</pre></div>\n");
        h.append("</main>\n");
        h.append("<script>\n").append(inlineSafe(PLOTLY_RESOURCE, plotlyJs, "</script")).append("\n</script>\n");
        h.append("<script type=\"application/json\" id=\"").append(DATA_ELEMENT_ID).append("\">")
                .append(scriptSafeJson(toJson(model))).append("</script>\n");
        h.append("<script>\n").append(inlineSafe("report.js", script, "</script")).append("\n</script>\n");
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    // --- HTML sections ------------------------------------------------------------------------------

    /** Links to the sections, so a reader can jump past the long tables. */
    private static void toc(StringBuilder h, ReportModel m) {
        h.append("<nav class=\"toc\"><a href=\"#summary\">Summary</a> <a href=\"#definitions\">Definitions</a>"
                + " <a href=\"#configuration\">Configuration</a> <a href=\"#anchors\">Anchors</a> <a href=\"#facet-split\">Facet split</a>");
        for (int i = 0; i < m.saes().size(); i++) {
            h.append(" <a href=\"#features-").append(i).append("\">Features: ").append(esc(m.saes().get(i).name())).append("</a>");
        }
        h.append(" <a href=\"#plots\">Map</a> <a href=\"#geometry\">Geometry</a> <a href=\"#prompts\">Top prompts</a>");
        if (m.steering() != null) h.append(" <a href=\"#steering\">Steering results</a>");
        h.append("</nav>\n");
    }

    /** The verdict(s) and the key numbers, first on the page. */
    private static void summary(StringBuilder h, ReportModel m) {
        h.append("<section id=\"summary\"><h2>Summary</h2>\n<p class=\"muted\">Feature-map verdict (does a coarse France feature split into"
                + " matching fine features?):</p>\n");
        verdict(h, m);
        ReportModel.Config c = m.config();
        h.append("<ul class=\"keys\">\n<li><b>").append(c.targetPrompts()).append("</b> target and <b>").append(c.controlPrompts())
                .append("</b> control prompts, activations pooled per prompt by <b>").append(esc(c.aggregate())).append("</b></li>\n");
        int matched = 0;
        for (AnchorSummary a : m.anchors()) if (a.matches() > 0) matched++;
        h.append("<li><b>").append(m.anchors().size()).append("</b> anchors (top coarse features), <b>").append(matched)
                .append("</b> with at least one matching fine feature; <b>").append(m.facetSplit().size())
                .append("</b> facet-split rows</li>\n");
        for (Sae s : m.saes()) {
            h.append("<li>").append(esc(s.name())).append(": <b>").append(s.topFeatures().size()).append("</b> top features shown");
            if (s.significance() != null) {
                h.append(", <b>").append(s.significance().significant()).append("</b> of ").append(s.significance().tested())
                        .append(" tested with q &lt; ").append(num(s.significance().alpha()));
            }
            h.append("</li>\n");
        }
        h.append("</ul>\n");
        if (m.steering() != null && m.steering().verdict() != null) {
            h.append("<p class=\"muted\">Steering verdict (does steering with coarse + fine target the facet better than coarse alone?):</p>\n");
            steeringVerdict(h, m.steering().verdict());
        }
        h.append("</section>\n");
    }

    /** What the columns mean, as the study computes them (analysis.ContrastStats). */
    private static void definitions(StringBuilder h) {
        h.append("<section id=\"definitions\"><h2>Definitions</h2>\n<dl class=\"defs\">\n"
                + "<dt>per-prompt activation</dt><dd>a feature's SAE activations on a prompt's tokens pooled into one number (the"
                + " aggregate above: max, mean or last token); the BOS token is never counted. A prompt where the feature does not fire counts as 0.</dd>\n"
                + "<dt id=\"def-selectivity\">selectivity</dt><dd>mean target / (mean target + mean control), over the per-prompt activations"
                + " (zeros included). Activations are non-negative, so it lies in [0, 1]: 1 means the feature fires only on target prompts,"
                + " 0.5 equally on both; 0/0 counts as 0. The tables list the most selective features among those whose mean on the target"
                + " prompts reaches the run's minimum activation, ties broken by the larger mean target.</dd>\n"
                + "<dt>fire rate</dt><dd>share of the prompts where the per-prompt activation is above 0.</dd>\n"
                + "<dt>AUROC</dt><dd>probability that a random target prompt activates the feature more than a random control prompt (ties count 1/2).</dd>\n"
                + "<dt>q-value</dt><dd>Benjamini-Hochberg adjusted two-sided Mann-Whitney U p-value over all tested features of the SAE.</dd>\n"
                + "<dt>effect size (d)</dt><dd>Cohen's d: (mean target &minus; mean control) / pooled standard deviation.</dd>\n"
                + "<dt>match</dt><dd>a fine feature matches an anchor when their decoder cosine and their per-prompt activation correlation"
                + " both exceed the thresholds of the configuration.</dd>\n"
                + "<dt>token shading</dt><dd>in the top prompts, each token is shaded by the feature's activation on it (darker is higher, scaled to"
                + " the feature's largest token activation in its top prompts); hover a token for its value.</dd>\n"
                + "<dt>n/a</dt><dd>a value that was not finite (NaN or infinite; null in the embedded JSON).</dd>\n</dl>\n"
                + "<p class=\"muted\">Tables: click a column header to sort (again to reverse), type in a table's filter box to keep the matching rows.</p>\n"
                + "</section>\n");
    }

    private static void verdict(StringBuilder h, ReportModel m) {
        Verdict v = m.verdict();
        String cls = v.decision() == Decision.GO ? "go" : "no_go";
        h.append("<div class=\"verdict ").append(cls).append("\" id=\"verdict\">")
                .append("<div class=\"decision\">").append(v.decision() == Decision.GO ? "GO" : "NO-GO").append("</div>")
                .append("<div><div class=\"reason\">").append(esc(v.reason())).append("</div>")
                .append("<div class=\"facts\">deciding anchor: ").append(v.anchor() < 0 ? "none" : String.valueOf(v.anchor()))
                .append(" &middot; matching fine features: ").append(v.matches())
                .append(" &middot; required: ").append(v.required()).append("</div></div></div>\n");
    }

    private static void config(StringBuilder h, ReportModel m) {
        ReportModel.Config c = m.config();
        ReportModel.Thresholds t = c.thresholds();
        h.append("<section id=\"configuration\"><h2>Configuration</h2>\n<table class=\"kv\">\n");
        kv(h, "model", esc(c.model()));
        kv(h, "prompts", c.targetPrompts() + " target (France), " + c.controlPrompts() + " control (neutral)");
        kv(h, "aggregate", esc(c.aggregate()));
        kv(h, "match thresholds", "cosine &gt; " + num(t.minCosine()) + " and correlation &gt; " + num(t.minCorrelation())
                + "; GO needs &ge; " + t.minSubFeatures() + " matching fine features for one anchor");
        h.append("</table>\n<table>\n<tr><th>SAE</th><th>resolution</th><th class=\"num\">width</th><th>Neuronpedia</th></tr>\n");
        for (Sae s : m.saes()) {
            h.append("<tr><td>").append(esc(s.name())).append("</td><td>").append(s.resolution().label())
                    .append("</td><td class=\"num\">").append(s.width()).append("</td><td>")
                    .append(s.neuronpediaId() == null ? "&mdash;" : esc(s.neuronpediaId())).append("</td></tr>\n");
        }
        h.append("</table>\n</section>\n");
    }

    private static void kv(StringBuilder h, String key, String valueHtml) {
        h.append("<tr><th>").append(esc(key)).append("</th><td>").append(valueHtml).append("</td></tr>\n");
    }

    private static void anchors(StringBuilder h, ReportModel m) {
        h.append("<section id=\"anchors\"><h2>Anchors (top coarse features)</h2>\n<table class=\"sortable\">\n<tr><th>anchor</th><th class=\"num\">matches</th>"
                + "<th>strongest match</th><th class=\"num\">correlation</th><th class=\"num\">cosine</th></tr>\n");
        Sae coarse = m.sae(ReportModel.Resolution.COARSE);
        Sae fine = m.sae(ReportModel.Resolution.FINE);
        for (AnchorSummary a : m.anchors()) {
            FeaturePair s = a.strongest();
            h.append("<tr><td>").append(featureRef(coarse, a.anchor())).append("</td><td class=\"num\">").append(a.matches())
                    .append("</td><td>").append(s == null ? "&mdash;" : featureRef(fine, s.fine()))
                    .append("</td><td class=\"num\">").append(s == null ? "" : num(s.correlation()))
                    .append("</td><td class=\"num\">").append(s == null ? "" : num(s.cosine())).append("</td></tr>\n");
        }
        h.append("</table>\n</section>\n");
    }

    /** Fine features the verdict's all-prompt correlation cannot see: they fire on a subset of the target prompts. */
    private static void facetSplit(StringBuilder h, ReportModel m) {
        h.append("<section id=\"facet-split\"><h2>Facet split (beside the verdict's rule)</h2>\n<p class=\"muted\">Fine features whose "
                + "decoder leans to an anchor's (cosine above the map's threshold) and that fire on at most half of the target prompts. "
                + "The correlation over all prompts is dominated by the target/control split, so such a feature cannot reach the match "
                + "threshold: a feature firing on a fraction q of the target prompts has r &le; &radic;(q/(2&minus;q)) with an ideal anchor. "
                + "The correlation within the target prompts and the mean over the prompts it fires on are shown beside it.</p>\n");
        if (m.facetSplit().isEmpty()) {
            h.append("<p>No fine feature splits off a facet of an anchor.</p>\n</section>\n");
            return;
        }
        Sae coarse = m.sae(ReportModel.Resolution.COARSE);
        Sae fine = m.sae(ReportModel.Resolution.FINE);
        h.append("<table class=\"sortable\">\n<tr><th>anchor</th><th>fine feature</th><th>facet</th><th class=\"num\">facet share</th>"
                + "<th class=\"num\">fire rate target</th><th class=\"num\">mean when firing</th><th class=\"num\">cosine</th>"
                + "<th class=\"num\">correlation (all prompts)</th><th class=\"num\">correlation (target prompts)</th></tr>\n");
        for (ReportModel.FacetSplitRow r : m.facetSplit()) {
            h.append("<tr><td>").append(featureRef(coarse, r.anchor())).append("</td><td>").append(featureRef(fine, r.fine()))
                    .append("</td><td>").append(esc(r.facet())).append("</td>");
            cell(h, pct(r.facetShare()));
            cell(h, pct(r.fireRateTarget()));
            cell(h, num(r.meanWhenFiring()));
            cell(h, num(r.cosine()));
            cell(h, num(r.correlation()));
            cell(h, num(r.targetCorrelation()));
            h.append("</tr>\n");
        }
        h.append("</table>\n</section>\n");
    }

    /** Tables longer than this are collapsed: the summary line says how many rows they hold. */
    static final int OPEN_ROWS = 15;

    private static void featureTable(StringBuilder h, Sae sae, int index) {
        h.append("<section id=\"features-").append(index).append("\"><h2>Top features: ").append(esc(sae.name())).append(" (")
                .append(sae.resolution().label()).append(", ").append(sae.width()).append(" features)</h2>\n");
        if (sae.neuronpediaId() == null) {
            h.append("<p class=\"muted\">This SAE has no Neuronpedia id, so features are not linked.</p>\n");
        }
        if (sae.significance() != null) significance(h, sae.significance());
        int n = sae.topFeatures().size();
        h.append("<details class=\"table\"").append(n <= OPEN_ROWS ? " open" : "").append("><summary>").append(n)
                .append(" features by <a href=\"#def-selectivity\">selectivity</a></summary>\n");
        h.append("<input type=\"search\" class=\"filter\" placeholder=\"filter rows (feature, facet...)\" aria-label=\"filter rows\">\n");
        h.append("<table class=\"sortable\">\n<tr><th>feature</th><th>likely facet</th><th class=\"num\">selectivity</th>"
                + "<th class=\"num\">mean target</th><th class=\"num\">mean control</th><th class=\"num\">fire rate target</th>"
                + "<th class=\"num\">fire rate control</th><th class=\"num\">AUROC</th><th class=\"num\">q-value</th>"
                + "<th class=\"num\">effect size (d)</th></tr>\n");
        for (FeatureStats f : sae.topFeatures()) {
            h.append("<tr><td>").append(featureRef(sae, f.feature())).append("</td><td>").append(esc(facet(f)))
                    .append("</td>");
            cell(h, num(f.selectivity()));
            cell(h, num(f.meanTarget()));
            cell(h, num(f.meanControl()));
            cell(h, pct(f.fireRateTarget()));
            cell(h, pct(f.fireRateControl()));
            cell(h, num(f.auroc()));
            cell(h, qValue(f.qValue()));
            cell(h, num(f.effectSize()));
            h.append("</tr>\n");
        }
        h.append("</table>\n</details>\n</section>\n");
    }

    /** The floor of the table's q-values, so a reader can tell "not significant" from "could not be significant". */
    private static void significance(StringBuilder h, ReportModel.Significance g) {
        h.append("<p class=\"significance\">q-values: ").append(esc(g.test())).append(". The smallest p-value the test can reach "
                + "with these prompts is <b>").append(qValue(g.smallestP())).append("</b>, so the smallest reachable q is <b>")
                .append(qValue(g.smallestQ())).append("</b> for a lone perfectly separated feature among the ").append(g.tested())
                .append(" tested (").append(qValue(g.smallestP())).append(" if every tested feature were). ").append(g.significant())
                .append(" features have q &lt; ").append(num(g.alpha())).append("; the permutation check (").append(g.permutations())
                .append(" relabelings, p &ge; ").append(qValue(g.permutationSmallestP())).append(", which alone could reach q = ")
                .append(qValue(g.permutationSmallestQ())).append(") also puts ").append(g.confirmed()).append(" of them below p = ")
                .append(num(g.alpha())).append(".</p>\n");
    }

    private static void cell(StringBuilder h, String text) {
        h.append("<td class=\"num\">").append(text).append("</td>");
    }

    /**
     * A feature index, linked to its Neuronpedia page when the SAE has a neuronpedia_id, followed by a link to its
     * page in this SAE's feature atlas when one was found for it.
     */
    private static String featureRef(Sae sae, int index) {
        String url = sae == null ? null : sae.neuronpediaUrl(index);
        String ref = url == null ? String.valueOf(index)
                : "<a href=\"" + esc(url) + "\" target=\"_blank\" rel=\"noopener noreferrer\">" + index + "</a>";
        String atlas = sae == null ? null : sae.atlasUrl(index);
        if (atlas != null) ref += " <a class=\"atlas-link\" href=\"" + esc(atlas) + "\" title=\"this feature in the atlas\">atlas</a>";
        return ref;
    }

    /**
     * Each feature's top prompts as a collapsed card (its summary line: feature, facet, strongest value). A prompt with
     * per-token values shows every token shaded by the feature's activation on it, relative to the largest token
     * activation in the feature's top prompts; {@code data-v} holds the exact value. Without token values the prompt
     * text is shown as it is.
     */
    private static void prompts(StringBuilder h, ReportModel m) {
        h.append("<section id=\"prompts\"><h2>Top-activating prompts</h2>\n<p class=\"muted\">Open a feature to see the prompts it fires"
                + " on most, each token shaded by the feature's activation on it (hover for the value); the number after a prompt is its"
                + " per-prompt activation.</p>\n");
        for (Sae sae : m.saes()) {
            h.append("<details class=\"sae-prompts\"><summary><b>").append(esc(sae.name())).append("</b> (").append(sae.topFeatures().size())
                    .append(" features)</summary>\n<input type=\"search\" class=\"filter\" placeholder=\"filter features (index, facet, prompt text...)\""
                    + " aria-label=\"filter features\">\n<div class=\"prompts\">\n");
            for (FeatureStats f : sae.topFeatures()) {
                double best = f.topPrompts().isEmpty() ? Double.NaN : f.topPrompts().get(0).value();
                h.append("<details class=\"feature\" data-feature=\"").append(f.feature()).append("\"><summary><b>feature ")
                        .append(featureRef(sae, f.feature())).append("</b> <span class=\"muted\">").append(esc(facet(f)))
                        .append("</span> <span class=\"value\">max ").append(num(best)).append("</span></summary>\n");
                if (f.topPrompts().isEmpty()) {
                    h.append("<div class=\"muted\">no prompt activates this feature</div>");
                } else {
                    double scale = 0;
                    for (TopPrompt p : f.topPrompts()) for (double v : p.tokenValues()) if (Double.isFinite(v)) scale = Math.max(scale, v);
                    h.append("<ol>");
                    for (TopPrompt p : f.topPrompts()) {
                        h.append("<li>");
                        if (p.tokens().isEmpty()) h.append(esc(p.text()));
                        else tokens(h, p, scale);
                        h.append("<span class=\"value\">").append(num(p.value())).append("</span></li>");
                    }
                    h.append("</ol>");
                }
                h.append("</details>\n");
            }
            h.append("</div>\n</details>\n");
        }
        h.append("</section>\n");
    }

    /** One prompt's tokens, each a span shaded by its value over {@code scale}; a token with value 0 is not shaded. */
    private static void tokens(StringBuilder h, TopPrompt p, double scale) {
        h.append("<span class=\"toks\">");
        for (int i = 0; i < p.tokens().size(); i++) {
            double v = p.tokenValues().get(i);
            boolean on = Double.isFinite(v) && v > 0 && scale > 0;
            h.append("<span class=\"tok").append(on ? " on" : "").append("\" data-v=\"").append(Double.isFinite(v) ? Double.toString(v) : "NaN")
                    .append("\" title=\"").append(num(v)).append("\"");
            if (on) {
                h.append(" style=\"background:rgba(255,112,0,").append(String.format(Locale.ROOT, "%.3f", 0.12 + 0.88 * Math.min(1, v / scale)))
                        .append(")\"");
            }
            h.append(">").append(esc(p.tokens().get(i))).append("</span>");
        }
        h.append("</span>");
    }

    private static void steeringVerdict(StringBuilder h, SteeringVerdict v) {
        boolean shown = v.decision() == SteeringVerdict.Decision.MULTI_RESOLUTION_BETTER;
        h.append("<div class=\"verdict ").append(shown ? "go" : "no_go").append(" steering-verdict\" id=\"steering-verdict\" data-decision=\"")
                .append(v.decision().name()).append("\"><div class=\"decision\">").append(shown ? "BETTER" : "NOT SHOWN")
                .append("</div><div><div class=\"reason\">").append(esc(v.sentence())).append("</div><div class=\"facts\">rule: ")
                .append(esc(v.rule())).append("</div></div></div>\n");
    }

    private static void steering(StringBuilder h, ReportModel.Steering s) {
        h.append("<section id=\"steering\"><h2>Steering</h2>\n");
        if (s.verdict() != null) {
            h.append("<p class=\"muted\">This section's verdict (the steering study's, not the feature map's):</p>\n");
            steeringVerdict(h, s.verdict());
        }
        h.append("<div id=\"plot-steering\" class=\"plot\"></div>\n");
        if (!s.cells().isEmpty()) {
            h.append("<h3>Per condition and strength (mean [95% bootstrap interval])</h3>\n<p class=\"muted\">Perplexity: teacher-forced perplexity"
                    + " of the continuation under the unsteered model (fluency; lower is more fluent). Repetition: share of repeated token bigrams."
                    + " n: continuations scored.</p>\n");
            h.append("<details class=\"table\"").append(s.cells().size() <= OPEN_ROWS ? " open" : "").append("><summary>").append(s.cells().size())
                    .append(" cells</summary>\n<input type=\"search\" class=\"filter\" placeholder=\"filter rows (condition...)\" aria-label=\"filter rows\">\n");
            h.append("<table class=\"sortable\" id=\"steering-cells\">\n<tr><th>condition</th><th class=\"num\">strength</th><th class=\"num\">n</th>"
                    + "<th class=\"num\">coarse France activation</th><th class=\"num\">target fine activation</th><th class=\"num\">facet word rate</th>"
                    + "<th class=\"num\">perplexity</th><th class=\"num\">repetition</th></tr>\n");
            for (ReportModel.SteeringCell c : s.cells()) {
                h.append("<tr><td>").append(esc(c.condition())).append("</td>");
                cell(h, num(c.strength()));
                cell(h, String.valueOf(c.n()));
                for (ReportModel.Interval e : List.of(c.concept(), c.targetFine(), c.targetFacetRate(), c.perplexity(), c.repetition())) {
                    cell(h, num(e.mean()) + " <span class=\"ci\">[" + num(e.low()) + ", " + num(e.high()) + "]</span>");
                }
                h.append("</tr>\n");
            }
            h.append("</table>\n</details>\n");
        }
        if (!s.generations().isEmpty()) {
            h.append("<details class=\"table\"><summary>Example generations (").append(s.generations().size()).append(")</summary>\n")
                    .append("<input type=\"search\" class=\"filter\" placeholder=\"filter rows (condition, text...)\" aria-label=\"filter rows\">\n")
                    .append("<table class=\"sortable\">\n<tr><th>condition</th><th class=\"num\">strength</th><th>text</th></tr>\n");
            for (Generation g : s.generations()) {
                h.append("<tr><td>").append(esc(g.condition())).append("</td><td class=\"num\">").append(num(g.strength()))
                        .append("</td><td class=\"gen-text\">").append(esc(g.text())).append("</td></tr>\n");
            }
            h.append("</table>\n</details>\n");
        }
        h.append("</section>\n");
    }

    // --- JSON ---------------------------------------------------------------------------------------

    /** The model as a JSON tree; every non-finite number becomes null. */
    static JsonNode toJsonTree(ReportModel m) {
        ObjectNode root = JSON.createObjectNode();
        int[] nonFinite = {0};
        ReportModel.Config c = m.config();
        ObjectNode cfg = root.putObject("config");
        cfg.put("title", c.title()).put("model", c.model()).put("targetPrompts", c.targetPrompts())
                .put("controlPrompts", c.controlPrompts()).put("aggregate", c.aggregate());
        cfg.putObject("thresholds").put("minCosine", c.thresholds().minCosine())
                .put("minCorrelation", c.thresholds().minCorrelation()).put("minSubFeatures", c.thresholds().minSubFeatures());
        ArrayNode saes = root.putArray("saes");
        for (Sae s : m.saes()) {
            ObjectNode o = saes.addObject();
            o.put("name", s.name()).put("resolution", s.resolution().label()).put("width", s.width())
                    .put("neuronpediaId", s.neuronpediaId());
            ReportModel.Significance g = s.significance();
            if (g == null) {
                o.putNull("significance");
            } else {
                ObjectNode go = o.putObject("significance").put("test", g.test()).put("alpha", g.alpha()).put("tested", g.tested());
                num(go, "smallestP", g.smallestP(), nonFinite);
                num(go, "smallestQ", g.smallestQ(), nonFinite);
                go.put("permutations", g.permutations());
                num(go, "permutationSmallestP", g.permutationSmallestP(), nonFinite);
                go.put("significant", g.significant()).put("confirmed", g.confirmed());
            }
            ArrayNode feats = o.putArray("features");
            for (FeatureStats f : s.topFeatures()) {
                ObjectNode fo = feats.addObject();
                fo.put("index", f.feature());
                num(fo, "selectivity", f.selectivity(), nonFinite);
                num(fo, "meanTarget", f.meanTarget(), nonFinite);
                num(fo, "meanControl", f.meanControl(), nonFinite);
                num(fo, "fireRateTarget", f.fireRateTarget(), nonFinite);
                num(fo, "fireRateControl", f.fireRateControl(), nonFinite);
                num(fo, "auroc", f.auroc(), nonFinite);
                num(fo, "qValue", f.qValue(), nonFinite);
                num(fo, "effectSize", f.effectSize(), nonFinite);
                fo.put("likelyFacet", facet(f));
                fo.put("neuronpediaUrl", s.neuronpediaUrl(f.feature()));
                fo.put("atlasUrl", s.atlasUrl(f.feature()));
                ArrayNode tp = fo.putArray("topPrompts");
                for (TopPrompt p : f.topPrompts()) {
                    ObjectNode po = tp.addObject().put("text", p.text());
                    num(po, "value", p.value(), nonFinite);
                    ArrayNode toks = po.putArray("tokens");
                    p.tokens().forEach(toks::add);
                    ArrayNode vals = po.putArray("tokenValues");
                    for (double v : p.tokenValues()) {
                        if (Double.isFinite(v)) vals.add(v); else { vals.addNull(); nonFinite[0]++; }
                    }
                }
            }
        }
        CosineMatrix cm = m.cosine();
        ObjectNode cos = root.putObject("cosine");
        ArrayNode an = cos.putArray("anchors");
        for (int a : cm.anchors()) an.add(a);
        ArrayNode fn = cos.putArray("fines");
        int[] fines = cm.fines();
        for (int f : fines) fn.add(f);
        ArrayNode z = cos.putArray("z");
        for (int i = 0; i < cm.anchors().length; i++) {
            ArrayNode row = z.addArray();
            for (int j = 0; j < fines.length; j++) {
                float v = cm.at(i, j);
                if (Float.isFinite(v)) row.add(v); else { row.addNull(); nonFinite[0]++; }
            }
        }
        ArrayNode split = root.putArray("facetSplit");
        for (ReportModel.FacetSplitRow r : m.facetSplit()) {
            ObjectNode o = split.addObject().put("anchor", r.anchor()).put("fine", r.fine()).put("facet", r.facet());
            num(o, "facetShare", r.facetShare(), nonFinite);
            num(o, "fireRateTarget", r.fireRateTarget(), nonFinite);
            num(o, "meanWhenFiring", r.meanWhenFiring(), nonFinite);
            num(o, "cosine", r.cosine(), nonFinite);
            num(o, "correlation", r.correlation(), nonFinite);
            num(o, "targetCorrelation", r.targetCorrelation(), nonFinite);
        }
        ArrayNode sc = root.putArray("scatter");
        for (FeaturePair p : m.scatter()) scatterPoint(sc.addObject(), p, nonFinite);
        ArrayNode anchors = root.putArray("anchors");
        for (AnchorSummary a : m.anchors()) {
            ObjectNode o = anchors.addObject().put("anchor", a.anchor()).put("matches", a.matches());
            if (a.strongest() == null) o.putNull("strongest"); else scatterPoint(o.putObject("strongest"), a.strongest(), nonFinite);
        }
        ObjectNode cloud = root.putObject("cloud");
        ArrayNode pts = cloud.putArray("points");
        for (CloudPoint p : m.cloud().points()) {
            ObjectNode o = pts.addObject().put("feature", p.feature()).put("resolution", p.resolution().label());
            num(o, "x", p.x(), nonFinite);
            num(o, "y", p.y(), nonFinite);
            num(o, "z", p.z(), nonFinite);
            o.put("label", p.label());
        }
        ArrayNode links = cloud.putArray("links");
        for (Link l : m.cloud().links()) links.addObject().put("anchor", l.anchor()).put("fine", l.fine());
        cloud.set("explainedVarianceRatio", numbers(m.cloud().explainedVarianceRatio(), nonFinite));
        Verdict v = m.verdict();
        root.putObject("verdict").put("decision", v.decision().name()).put("anchor", v.anchor()).put("matches", v.matches())
                .put("required", v.required()).put("reason", v.reason());
        if (m.steering() == null) {
            root.putNull("steering");
        } else {
            ObjectNode st = root.putObject("steering");
            ArrayNode curves = st.putArray("curves");
            for (Curve cu : m.steering().curves()) {
                ObjectNode o = curves.addObject().put("condition", cu.condition());
                o.set("strength", numbers(cu.strength(), nonFinite));
                o.set("meanScore", numbers(cu.meanScore(), nonFinite));
                o.set("ciLow", numbers(cu.ciLow(), nonFinite));
                o.set("ciHigh", numbers(cu.ciHigh(), nonFinite));
            }
            SteeringVerdict sv = m.steering().verdict();
            if (sv == null) st.putNull("verdict");
            else st.putObject("verdict").put("decision", sv.decision().name()).put("strength", sv.strength()).put("sentence", sv.sentence())
                    .put("rule", sv.rule());
            ArrayNode cells = st.putArray("cells");
            for (ReportModel.SteeringCell cell : m.steering().cells()) {
                ObjectNode co = cells.addObject().put("condition", cell.condition());
                num(co, "strength", cell.strength(), nonFinite);
                co.put("n", cell.n());
                String[] names = {"concept", "targetFine", "targetFacetRate", "perplexity", "repetition"};
                ReportModel.Interval[] values = {cell.concept(), cell.targetFine(), cell.targetFacetRate(), cell.perplexity(), cell.repetition()};
                for (int i = 0; i < names.length; i++) {
                    ObjectNode e = co.putObject(names[i]);
                    num(e, "mean", values[i].mean(), nonFinite);
                    num(e, "low", values[i].low(), nonFinite);
                    num(e, "high", values[i].high(), nonFinite);
                }
            }
            ArrayNode gens = st.putArray("generations");
            for (Generation g : m.steering().generations()) {
                ObjectNode go = gens.addObject().put("condition", g.condition());
                num(go, "strength", g.strength(), nonFinite);
                go.put("text", g.text());
            }
        }
        root.putObject("meta").put("nonFiniteAsNull", nonFinite[0])
                .put("note", "non-finite numbers (NaN, +/-Infinity) are written as null");
        if (nonFinite[0] > 0) {
            LOG.log(System.Logger.Level.INFO, "report: {0} non-finite value(s) written as null and shown as n/a", nonFinite[0]);
        }
        return root;
    }

    static String toJson(ReportModel m) {
        try {
            return JSON.writeValueAsString(toJsonTree(m));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException("cannot serialise the report model", e);
        }
    }

    /** The feature's likely facet as the report shows it: {@code none} when the target prompts carry no facets. */
    static String facet(FeatureStats f) {
        return f.likelyFacet() == null ? "none" : f.likelyFacet();
    }

    private static void scatterPoint(ObjectNode o, FeaturePair p, int[] nonFinite) {
        o.put("anchor", p.anchor()).put("fine", p.fine());
        num(o, "correlation", p.correlation(), nonFinite);
        num(o, "cosine", p.cosine(), nonFinite);
        o.put("classification", p.classification().name());
    }

    private static void num(ObjectNode o, String field, double v, int[] nonFinite) {
        if (Double.isFinite(v)) {
            o.put(field, v);
        } else {
            o.putNull(field);
            nonFinite[0]++;
        }
    }

    private static ArrayNode numbers(double[] values, int[] nonFinite) {
        ArrayNode a = JSON.createArrayNode();
        for (double v : values) {
            if (Double.isFinite(v)) a.add(v); else { a.addNull(); nonFinite[0]++; }
        }
        return a;
    }

    // --- escaping -----------------------------------------------------------------------------------

    /** Escapes text for HTML element content and double- or single-quoted attribute values. */
    public static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(ch);
            }
        }
        return b.toString();
    }

    /**
     * Makes JSON text safe inside a script element: {@code < > &} can only occur inside JSON strings, where
     * a {@code \}{@code uXXXX} escape means the same character, so the parsed value is unchanged while no
     * {@code </script>} or {@code <!--} can appear; U+2028/2029 are escaped for old JavaScript parsers.
     */
    public static String scriptSafeJson(String json) {
        StringBuilder b = new StringBuilder(json.length() + 64);
        for (int i = 0; i < json.length(); i++) {
            char ch = json.charAt(i);
            switch (ch) {
                case '<' -> b.append("\\u003c");
                case '>' -> b.append("\\u003e");
                case '&' -> b.append("\\u0026");
                case '\u2028' -> b.append("\\u2028");
                case '\u2029' -> b.append("\\u2029");
                default -> b.append(ch);
            }
        }
        return b.toString();
    }

    /** Refuses to inline code that would end its own element early (no escaping can fix code). */
    private static String inlineSafe(String name, String code, String closer) {
        String lower = code.toLowerCase(Locale.ROOT);
        if (lower.contains(closer) || lower.contains("<script")) {
            throw new IllegalStateException(name + " contains '" + closer + "' or '<script' and cannot be inlined in"
                    + " an HTML page safely");
        }
        return code;
    }

    private static String num(double v) {
        if (Double.isNaN(v)) return "n/a";
        if (Double.isInfinite(v)) return v > 0 ? "&infin;" : "&minus;&infin;";
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String pct(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.1f%%", 100 * v) : num(v);
    }

    /** p- and q-values span many decades; small ones in scientific notation. */
    private static String qValue(double v) {
        if (!Double.isFinite(v)) return num(v);
        return v != 0 && v < 1e-3 ? String.format(Locale.ROOT, "%.1e", v) : String.format(Locale.ROOT, "%.4f", v);
    }

    // --- resources ----------------------------------------------------------------------------------

    private static String ownResource(String name) {
        String s = resource("/dev/jlens/report/" + name);
        if (s == null) throw new IllegalStateException("resource dev/jlens/report/" + name + " is missing from the build");
        return s;
    }

    private static String resource(String path) {
        try (InputStream in = HtmlReport.class.getResourceAsStream(path)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + path, e);
        }
    }
}
