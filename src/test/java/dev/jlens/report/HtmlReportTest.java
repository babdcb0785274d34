package dev.jlens.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HtmlReportTest {
    private static final Pattern DATA = Pattern.compile(
            "<script type=\"application/json\" id=\"" + HtmlReport.DATA_ELEMENT_ID + "\">(.*?)</script>", Pattern.DOTALL);

    @TempDir static Path dir;
    static String html;

    @BeforeAll
    static void writeReport() throws IOException {
        Path file = HtmlReport.write(dir, ReportFixture.model(true, true));
        assertEquals(dir.resolve("report.html"), file);
        html = Files.readString(file);
    }

    static JsonNode embeddedJson(String page) throws IOException {
        Matcher m = DATA.matcher(page);
        assertTrue(m.find(), "no embedded JSON element");
        String json = m.group(1);
        assertFalse(m.find(), "two embedded JSON elements");
        return new ObjectMapper().readTree(json); // the default parser rejects NaN/Infinity tokens
    }

    @Test
    void hostileTextIsEscapedInTheMarkup() {
        assertFalse(html.contains("<script>alert"), "raw <script>alert in the page");
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "escaped prompt text missing");
        assertTrue(html.contains("He said &quot;quotes&quot; &amp; &#39;apostrophes&#39;"));
        assertTrue(html.contains("ends early &lt;/script&gt; or &lt;!-- not"));
        assertFalse(html.contains("<b>bold?</b>"), "condition name reached the markup unescaped");
        // every script element that opens is one of ours and closes exactly once
        assertEquals(4, count(html, "<script"), "script elements");
        assertEquals(4, count(html, "</script>"), "script closers");
        assertEquals(1, count(html, "<!--"), "the one <!-- is inside plotly's own string literal");
    }

    @Test
    void embeddedJsonIsScriptSafeAndParsesBackExactly() throws IOException {
        Matcher m = DATA.matcher(html);
        assertTrue(m.find());
        String json = m.group(1);
        for (String bad : new String[] {"<", ">", "&", "\u2028", "\u2029"}) {
            assertFalse(json.contains(bad), "embedded JSON contains raw " + bad.codePointAt(0));
        }
        JsonNode root = embeddedJson(html);
        ReportModel model = ReportFixture.model(true, true);
        assertEquals(model.config().title(), root.at("/config/title").asText());
        JsonNode prompts = root.at("/saes/0/features/0/topPrompts");
        assertEquals(model.saes().get(0).topFeatures().get(0).topPrompts().get(0).text(), prompts.get(0).get("text").asText());
        List<String> texts = new ArrayList<>();
        root.at("/saes").forEach(s -> s.get("features").forEach(f -> f.get("topPrompts").forEach(p -> texts.add(p.get("text").asText()))));
        assertTrue(texts.stream().anyMatch(t -> t.contains(ReportFixture.LINE_SEP)), "U+2028 text did not round-trip");
        assertTrue(texts.stream().anyMatch(t -> t.contains(ReportFixture.CLOSER)), "</script> text did not round-trip");
        assertEquals(model.steering().generations().get(1).text(), root.at("/steering/generations/1/text").asText());
    }

    @Test
    void nonFiniteNumbersBecomeNullAndAreCounted() throws IOException {
        JsonNode root = embeddedJson(html);
        assertTrue(root.at("/saes/0/features/0/effectSize").isNull(), "NaN effect size not null");
        assertTrue(root.at("/saes/0/features/1/effectSize").isNumber());
        assertTrue(root.at("/cosine/z/4/11").isNull(), "NaN cosine cell not null");
        assertTrue(root.at("/cosine/z/4/10").isNumber());
        assertEquals(ReportFixture.NON_FINITE, root.at("/meta/nonFiniteAsNull").asInt());
        List<JsonNode> numbers = new ArrayList<>();
        collectNumbers(root, numbers);
        assertTrue(numbers.size() > 500, "fixture should carry many numbers, got " + numbers.size());
        for (JsonNode n : numbers) assertTrue(Double.isFinite(n.asDouble()), "non-finite number " + n);
        assertTrue(html.contains("<td class=\"num\">n/a</td>"), "NaN cell not shown as n/a");
    }

    @Test
    void neuronpediaLinksAppearExactlyWhenTheSaeHasAnId() throws IOException {
        ReportModel model = ReportFixture.model(false, true);
        for (dev.jlens.api.FeatureStats f : model.saes().get(0).topFeatures()) {
            assertTrue(html.contains("href=\"https://www.neuronpedia.org/" + ReportFixture.COARSE_NP + "/" + f.feature() + "\""),
                    "no link for coarse feature " + f.feature());
        }
        // links to other pages; the in-page navigation (href="#section", issue 18) is not a feature link
        List<String> hrefs = attributes(html, "href").stream().filter(h -> !h.startsWith("#")).toList();
        int coarse = model.saes().get(0).topFeatures().size();
        // each coarse feature is linked from its table row and its prompt card; anchors also appear in the anchor table
        assertEquals(2 * coarse + ReportFixture.ANCHORS.length, hrefs.size(), "links: " + hrefs);
        for (String h : hrefs) assertTrue(h.startsWith("https://www.neuronpedia.org/" + ReportFixture.COARSE_NP + "/"), h);
        assertTrue(html.contains("fine 262k"));
        for (dev.jlens.api.FeatureStats f : model.saes().get(1).topFeatures()) {
            assertFalse(hrefs.stream().anyMatch(h -> h.endsWith("/" + f.feature())), "fine feature " + f.feature() + " linked");
        }

        Path other = Files.createDirectories(dir.resolve("no-ids"));
        String plain = Files.readString(HtmlReport.write(other, ReportFixture.model(false, false)));
        assertFalse(plain.contains("neuronpedia.org"), "link without a neuronpedia_id");
        assertTrue(attributes(plain, "href").stream().allMatch(h -> h.startsWith("#")), "only in-page links");
    }

    @Test
    void pageLoadsNothingFromTheNetwork() {
        for (String attr : new String[] {"src", "srcset", "action", "poster", "data"}) {
            assertEquals(List.of(), attributes(html, attr), attr + " attributes");
        }
        assertFalse(Pattern.compile("<link\\b", Pattern.CASE_INSENSITIVE).matcher(html).find(), "<link> element");
        assertFalse(Pattern.compile("<(iframe|img|object|embed|base)\\b", Pattern.CASE_INSENSITIVE).matcher(html).find());
        assertFalse(Pattern.compile("@import|url\\(\\s*['\"]?https?:", Pattern.CASE_INSENSITIVE).matcher(outsideScripts(html)).find());
        assertTrue(html.length() > 4_000_000, "plotly.js must be inlined, page is only " + html.length() + " chars");
    }

    @Test
    void steeringSectionIsRenderedOnlyWhenPresent() throws IOException {
        assertTrue(html.contains("id=\"plot-steering\""));
        assertTrue(html.contains("My favourite city is Paris"));
        Path other = Files.createDirectories(dir.resolve("no-steering"));
        String page = Files.readString(HtmlReport.write(other, ReportFixture.model(false, true)));
        assertFalse(page.contains("id=\"plot-steering\""));
        assertFalse(page.contains("id=\"steering\""));
        assertFalse(page.contains(">Steering<"));
        assertTrue(embeddedJson(page).get("steering").isNull());
    }

    @Test
    void verdictBannerShowsDecisionAndReason() {
        assertTrue(html.contains("<div class=\"verdict go\" id=\"verdict\"><div class=\"decision\">GO</div>"));
        assertTrue(html.contains("Coarse feature 3999 has "));
    }

    @Test
    void rewritingLeavesOneCompleteFileAndNoTemporaries() throws IOException {
        Path out = Files.createDirectories(dir.resolve("rewrite"));
        HtmlReport.write(out, ReportFixture.model(true, true));
        HtmlReport.write(out, ReportFixture.model(false, false));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of(out.resolve("report.html")), files.toList());
        }
        assertTrue(Files.readString(out.resolve("report.html")).endsWith("</html>\n"));
    }

    @Test
    void missingPlotlyNamesTheFetchScript() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> HtmlReport.plotlyJs("/dev/jlens/report/vendor/absent.js"));
        assertTrue(e.getMessage().contains("scripts/fetch-web-deps.sh"), e.getMessage());
        assertNotNull(HtmlReport.plotlyJs(HtmlReport.PLOTLY_RESOURCE));
    }

    @Test
    void codeThatWouldCloseItsScriptIsRefused() {
        ReportModel model = ReportFixture.model(false, true);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> HtmlReport.render(model, "var s = '</SCRIPT><script>alert(1)</script>';"));
        assertTrue(e.getMessage().contains(HtmlReport.PLOTLY_RESOURCE), e.getMessage());
    }

    @Test
    void scriptSafeJsonEscapesOnlyWhatHtmlWouldSee() throws IOException {
        String raw = new ObjectMapper().writeValueAsString(List.of("</script><!--", "a&b>c", "\u2028\u2029", "plain é"));
        String safe = HtmlReport.scriptSafeJson(raw);
        assertEquals("[\"\\u003c/script\\u003e\\u003c!--\",\"a\\u0026b\\u003ec\",\"\\u2028\\u2029\",\"plain é\"]", safe);
        assertEquals(new ObjectMapper().readTree(raw), new ObjectMapper().readTree(safe));
    }

    private static void collectNumbers(JsonNode n, List<JsonNode> out) {
        if (n.isNumber()) out.add(n);
        n.forEach(c -> collectNumbers(c, out));
    }

    private static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
        return n;
    }

    /** Values of an attribute in the markup (script bodies excluded: they are code, not markup). */
    private static List<String> attributes(String page, String attr) {
        Matcher m = Pattern.compile("\\s" + attr + "\\s*=\\s*\"([^\"]*)\"", Pattern.CASE_INSENSITIVE).matcher(outsideScripts(page));
        List<String> out = new ArrayList<>();
        while (m.find()) out.add(m.group(1));
        return out;
    }

    private static String outsideScripts(String page) {
        return page.replaceAll("(?s)(<script[^>]*>).*?</script>", "$1</script>");
    }
}
