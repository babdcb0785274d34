package dev.jlens.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.api.FeatureStats;
import dev.jlens.api.FeatureStats.TopPrompt;
import dev.jlens.api.SteeringVerdict;
import dev.jlens.report.ReportModel.Interval;
import dev.jlens.report.ReportModel.Sae;
import dev.jlens.report.ReportModel.Steering;
import dev.jlens.report.ReportModel.SteeringCell;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report's layout for a reader (issue 18): summary first, selectivity defined, long tables and prompt cards
 * collapsed, the self-check hidden; per-token shading of top prompts; the steering section's own verdict, interval
 * table and perplexity; and the model records that carry them.
 */
class ReportNavigationTest {
    private static final String SENTENCE = "Multi-resolution steering did not beat coarse-only <i>at all</i>: numbers.";

    @Test
    void summaryComesFirstAndDetailIsCollapsed() {
        ReportModel base = ReportFixture.model(true, true);
        List<FeatureStats> many = new ArrayList<>();
        for (int i = 0; i < HtmlReport.OPEN_ROWS + 1; i++) {
            many.add(ReportFixture.row(100 + i, 0.9, 2, 0.1, 0.5, 0.1, 0.9, 0.01, 1.5, "sport", List.of(ReportFixture.top("a prompt", 3))));
        }
        Sae fine = new Sae("fine long", ReportModel.Resolution.FINE, 262144, null, many);
        ReportModel m = new ReportModel(base.config(), List.of(base.saes().get(0), fine), base.cosine(), base.scatter(), base.anchors(),
                base.cloud(), base.verdict(), base.steering(), base.facetSplit());
        String html = HtmlReport.render(m, "");
        int summary = html.indexOf("<section id=\"summary\">");
        assertTrue(summary > 0 && summary < html.indexOf("id=\"configuration\"") && summary < html.indexOf("id=\"features-0\""),
                "the summary is not the first section");
        assertTrue(html.indexOf("id=\"verdict\"") > summary && html.indexOf("id=\"verdict\"") < html.indexOf("id=\"definitions\""));
        assertTrue(html.contains("<dt id=\"def-selectivity\">selectivity</dt><dd>mean target / (mean target + mean control)"));
        // the short coarse table is open, the long fine one collapsed; every prompt card is collapsed
        String coarse = between(html, "id=\"features-0\"", "</section>");
        String longTable = between(html, "id=\"features-1\"", "</section>");
        assertTrue(coarse.contains("<details class=\"table\" open>"), coarse);
        assertTrue(longTable.contains("<details class=\"table\"><summary>" + (HtmlReport.OPEN_ROWS + 1) + " features"), longTable);
        assertTrue(longTable.contains("<table class=\"sortable\">") && longTable.contains("<input type=\"search\" class=\"filter\""));
        assertFalse(html.contains("<details class=\"feature\" data-feature=\"100\" open"), "a prompt card is open");
        assertTrue(html.contains("<details class=\"feature\" data-feature=\"100\"><summary>"));
        // the self-check stays in the DOM for tools but inside a hidden container, without its old heading
        assertTrue(html.contains("<div class=\"machine\" hidden><pre id=\"" + HtmlReport.SELF_CHECK_ELEMENT_ID + "\" data-state=\"pending\">"));
        assertFalse(html.contains("Page self-check"));
    }

    @Test
    void topPromptTokensAreShadedByTheirValuesAndEscaped() throws Exception {
        ReportModel base = ReportFixture.model(false, false);
        TopPrompt strong = new TopPrompt(3, "The <b>x</b> Paris", "landmarks", 5.0, List.of("The", " <b>x</b>", " Paris"), List.of(0.0, 2.5, 5.0));
        TopPrompt weak = new TopPrompt(7, "Paris", null, 1.25, List.of("Paris"), List.of(1.25));
        FeatureStats f = ReportFixture.row(42, 0.9, 2, 0.1, 0.5, 0.1, 0.9, 0.01, 1.5, "landmarks", List.of(strong, weak));
        Sae coarse = new Sae("coarse tokens", ReportModel.Resolution.COARSE, 16384, null, List.of(f));
        ReportModel m = new ReportModel(base.config(), List.of(coarse, base.saes().get(1)), base.cosine(), base.scatter(), base.anchors(),
                base.cloud(), base.verdict(), null, base.facetSplit());
        String html = HtmlReport.render(m, "");
        // shade = 0.12 + 0.88 * value / (largest token value of the feature's top prompts = 5.0); a zero is not shaded
        assertTrue(html.contains("<span class=\"toks\"><span class=\"tok\" data-v=\"0.0\" title=\"0.000\">The</span>"
                + "<span class=\"tok on\" data-v=\"2.5\" title=\"2.500\" style=\"background:rgba(255,112,0,0.560)\"> &lt;b&gt;x&lt;/b&gt;</span>"
                + "<span class=\"tok on\" data-v=\"5.0\" title=\"5.000\" style=\"background:rgba(255,112,0,1.000)\"> Paris</span></span>"), html);
        assertTrue(html.contains("<span class=\"tok on\" data-v=\"1.25\" title=\"1.250\" style=\"background:rgba(255,112,0,0.340)\">Paris</span>"));
        assertFalse(html.contains("<b>x</b>"), "token text reached the markup");
        JsonNode p = embeddedJson(html).at("/saes/0/features/0/topPrompts/0");
        assertEquals(" <b>x</b>", p.at("/tokens/1").asText());
        assertEquals(2.5, p.at("/tokenValues/1").asDouble(), 0);
        // a prompt without token values is shown as text, as before
        assertTrue(HtmlReport.render(base, "").contains("<li>The Eiffel Tower is in Paris<span class=\"value\">"));
    }

    @Test
    void topPromptRecordPairsTokensWithValues() {
        assertThrows(IllegalArgumentException.class, () -> new TopPrompt(0, "a b", null, 1, List.of("a", " b"), List.of(1.0)));
        TopPrompt old = new TopPrompt(0, "a", null, 1, null, null); // results.json written before the fields existed
        assertEquals(List.of(), old.tokens());
        assertEquals(List.of(), old.tokenValues());
        assertEquals(List.of(2.0), new TopPrompt(0, "a", null, 2).withTokens(List.of("a"), List.of(2.0)).tokenValues());
    }

    @Test
    void steeringSectionShowsItsOwnVerdictIntervalsAndPerplexity() throws Exception {
        ReportModel base = ReportFixture.model(true, true);
        SteeringVerdict v = new SteeringVerdict(SteeringVerdict.Decision.NOT_SHOWN, 2, SENTENCE, "rule: CI above");
        Interval ci = new Interval(1.5, 1.25, 1.75);
        Interval none = new Interval(Double.NaN, Double.NaN, Double.NaN);
        List<SteeringCell> cells = List.of(new SteeringCell("none", 0, 6, ci, ci, ci, new Interval(12.25, 11.5, 13.0), ci),
                new SteeringCell("coarse+fine", 2, 6, ci, ci, ci, none, ci));
        Steering st = new Steering(base.steering().curves(), base.steering().generations(), v, cells);
        ReportModel m = new ReportModel(base.config(), base.saes(), base.cosine(), base.scatter(), base.anchors(), base.cloud(), base.verdict(),
                st, base.facetSplit());
        String html = HtmlReport.render(m, "");
        String section = between(html, "<section id=\"steering\">", "</section>");
        assertTrue(section.contains("<div class=\"verdict no_go steering-verdict\" id=\"steering-verdict\" data-decision=\"NOT_SHOWN\">"
                + "<div class=\"decision\">NOT SHOWN</div><div><div class=\"reason\">Multi-resolution steering did not beat coarse-only "
                + "&lt;i&gt;at all&lt;/i&gt;: numbers.</div>"), section);
        assertFalse(section.contains("id=\"verdict\""), "the France verdict in the steering section");
        assertTrue(section.contains("<th class=\"num\">perplexity</th>"));
        assertTrue(section.contains("<td class=\"num\">12.250 <span class=\"ci\">[11.500, 13.000]</span></td>"), section);
        assertTrue(section.contains("<td class=\"num\">n/a <span class=\"ci\">[n/a, n/a]</span></td>"));
        // the summary repeats the steering verdict after the feature map's
        String summary = between(html, "<section id=\"summary\">", "</section>");
        assertTrue(summary.indexOf("id=\"verdict\"") < summary.indexOf("id=\"steering-verdict\""), summary);
        JsonNode json = embeddedJson(html).get("steering");
        assertEquals(SENTENCE, json.at("/verdict/sentence").asText());
        assertEquals("NOT_SHOWN", json.at("/verdict/decision").asText());
        assertEquals(12.25, json.at("/cells/0/perplexity/mean").asDouble(), 0);
        assertTrue(json.at("/cells/1/perplexity/mean").isNull());
        assertThrows(IllegalArgumentException.class, () -> new SteeringCell("x", 0, -1, ci, ci, ci, ci, ci));
        // a steering section built without them (older callers) has no verdict banner and no table
        String plain = HtmlReport.render(ReportFixture.model(true, true), "");
        assertFalse(plain.contains("id=\"steering-verdict\""));
        assertFalse(plain.contains("id=\"steering-cells\""));
    }

    private static String between(String s, String from, String to) {
        int i = s.indexOf(from);
        assertTrue(i >= 0, "no " + from);
        int j = s.indexOf(to, i);
        return s.substring(i, j < 0 ? s.length() : j);
    }

    private static JsonNode embeddedJson(String html) throws Exception {
        Matcher m = Pattern.compile("<script type=\"application/json\" id=\"" + HtmlReport.DATA_ELEMENT_ID + "\">(.*?)</script>", Pattern.DOTALL)
                .matcher(html);
        assertTrue(m.find());
        return new ObjectMapper().readTree(m.group(1));
    }
}
