package dev.jlens.atlas.browser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.api.FeatureActivations;
import dev.jlens.api.LayerActivations;
import dev.jlens.api.LensModel;
import dev.jlens.api.LensSession;
import dev.jlens.api.SparseAutoencoder;
import dev.jlens.cli.CliRunner;
import dev.jlens.toy.ToyDefault;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report of a real toy 'jlens france' run and of a real (small) 'jlens steer' run, opened from disk in headless
 * Chromium and driven with real clicks and typing (the DevTools client of this package): the summary comes first, a
 * feature's top prompts shade each token with the value the feature has there (checked against an independent
 * capture + encode of the prompt through the public API), a header click sorts its table, the filter box filters,
 * the steering section shows the steering study's own verdict (steering.json's sentence, not the feature map's) with
 * its interval table and distinct legend colours, and the page reports no error. Screenshots are kept under
 * {@code <build dir>/atlas-browser/}. Without Chromium the test is skipped, except on CI where that fails.
 */
class StudyReportBrowserTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int LAYER = 12;

    @TempDir static Path shared;
    private static Path france;
    private static Path steer;
    @TempDir Path dir;

    @BeforeAll
    static void runTheToyStudies() {
        Chromium.executable(); // skips (or on CI fails) the class without Chromium
        france = shared.resolve("france");
        CliRunner.Run f = CliRunner.run("france", "--out", france.toString(), "--cache", shared.resolve("cache").toString(), "--threads", "2");
        assertEquals(0, f.code(), f.err());
        steer = shared.resolve("steer");
        // a small steering run: 2 prompts, one seed, strengths 0 and 2, 4 tokens each
        CliRunner.Run s = CliRunner.run("steer", "--results", france.resolve("results.json").toString(), "--out", steer.toString(),
                "--neutral-prompts", "2", "--seeds", "1", "--strengths", "0,2", "--max-tokens", "4", "--bootstrap", "50", "--threads", "2");
        assertEquals(0, s.code(), s.err());
    }

    @Test
    void franceReportShadesTokensByTheFeaturesActivationAndItsTablesSortAndFilter() throws Exception {
        try (CdpSession cdp = CdpSession.start(dir, 1400, 1000)) {
            open(cdp, france.resolve("report.html"));
            // the summary (with the feature-map verdict) is the first section; the self-check is not shown
            assertEquals("summary", cdp.eval("document.querySelector('main section').id").asText());
            assertTrue(cdp.eval("!!document.querySelector('#summary #verdict')").asBoolean());
            assertFalse(cdp.eval("document.getElementById('jlens-selfcheck').offsetParent !== null").asBoolean(), "self-check visible");
            assertTrue(cdp.eval("document.getElementById('definitions').textContent").asText()
                    .contains("mean target / (mean target + mean control)"), "selectivity is not defined on the page");

            // the fine SAE's first feature: open its card and read the first top prompt's token spans
            JsonNode data = cdp.eval("JSON.parse(document.getElementById('jlens-data').textContent)");
            JsonNode fine = data.at("/saes/1");
            JsonNode feature = fine.at("/features/0");
            int index = feature.get("index").asInt();
            String card = "#prompts details.sae-prompts:nth-of-type(2)";
            cdp.click(card + " > summary");
            cdp.click(card + " details.feature[data-feature='" + index + "'] > summary");
            JsonNode spans = cdp.eval("Array.from(document.querySelectorAll(\"" + card + " details.feature[data-feature='" + index
                    + "'] li:first-child span.tok\")).map(s => ({t: s.textContent, v: s.getAttribute('data-v'), on: s.classList.contains('on'),"
                    + " shown: s.offsetParent !== null, bg: getComputedStyle(s).backgroundColor}))");
            String prompt = feature.at("/topPrompts/0/text").asText();
            double promptValue = feature.at("/topPrompts/0/value").asDouble();
            assertTrue(spans.size() > 1, "no token spans for feature " + index + ": " + spans);

            // independently: capture the prompt at the layer through the public API, encode it with the fine SAE
            ToyDefault.Files toy = ToyDefault.ensure(true, null);
            List<String> texts = new ArrayList<>();
            List<Float> values = new ArrayList<>();
            try (LensModel model = LensModel.load(toy.model()); LensSession session = model.newSession(256, 2);
                 SparseAutoencoder sae = SparseAutoencoder.load(toy.fineId());
                 LayerActivations x = session.capture(List.of(prompt), LAYER)) {
                FeatureActivations codes = sae.encode(x);
                for (int r = 0; r < x.rows(); r++) {
                    if (x.isBos(r)) continue; // BOS is never shown
                    texts.add(model.tokenText(x.token(r)));
                    float v = 0;
                    int[] fs = codes.features(r);
                    for (int i = 0; i < fs.length; i++) if (fs[i] == index) v = codes.values(r)[i];
                    values.add(v);
                }
            }
            assertEquals(texts.size(), spans.size(), "one span per non-BOS token: " + spans);
            int shaded = 0;
            double max = 0;
            for (int i = 0; i < spans.size(); i++) {
                JsonNode s = spans.get(i);
                assertEquals(texts.get(i), s.get("t").asText(), "token " + i);
                double shown = Double.parseDouble(s.get("v").asText());
                assertEquals(values.get(i), shown, 1e-3 * Math.max(1, Math.abs(values.get(i))), "activation of token " + i + " '" + texts.get(i) + "'");
                assertEquals(values.get(i) > 0, s.get("on").asBoolean(), "shading of token " + i);
                assertTrue(s.get("shown").asBoolean(), "token " + i + " not visible after opening the card");
                if (s.get("on").asBoolean()) {
                    shaded++;
                    assertFalse(s.get("bg").asText().equals("rgba(0, 0, 0, 0)"), "a shaded token has no background");
                }
                max = Math.max(max, shown);
            }
            assertTrue(shaded > 0, "no token shaded");
            assertEquals(promptValue, max, 0, "the prompt's max aggregate is its largest token value");

            // sorting: open the fine table, click the selectivity header twice
            String table = "#features-1";
            cdp.click(table + " details.table > summary");
            int rows = cdp.eval("document.querySelectorAll('" + table + " table tr').length - 1").asInt();
            assertEquals(fine.get("features").size(), rows);
            cdp.click(table + " table th:nth-child(4)"); // mean target
            List<Double> asc = column(cdp, table, 4);
            cdp.click(table + " table th:nth-child(4)");
            List<Double> desc = column(cdp, table, 4);
            assertEquals(rows, asc.size());
            List<Double> sorted = new ArrayList<>(asc);
            sorted.sort(null);
            assertEquals(sorted, asc, "ascending after the first click");
            sorted.sort(java.util.Comparator.reverseOrder());
            assertEquals(sorted, desc, "descending after the second click");
            assertEquals("desc", cdp.eval("document.querySelector('" + table + " table th:nth-child(4)').getAttribute('data-sort')").asText());

            // filtering: the facet of the first feature keeps only rows that contain it
            String facet = feature.get("likelyFacet").asText();
            cdp.click(table + " input.filter");
            cdp.typeAndEnter(facet);
            JsonNode visible = cdp.eval("Array.from(document.querySelectorAll('" + table + " table tr')).slice(1)"
                    + ".filter(r => r.style.display !== 'none').map(r => r.textContent)");
            assertTrue(visible.size() > 0 && visible.size() < rows, "filter kept " + visible.size() + " of " + rows);
            for (JsonNode r : visible) assertTrue(r.asText().toLowerCase().contains(facet.toLowerCase()), r.asText());

            assertNoErrors(cdp);
            cdp.eval("window.scrollTo(0, 0), true"); // sticky headers are drawn where the viewport is
            // where the open card is on the full-page screenshot
            JsonNode box = cdp.eval("(() => { const r = document.querySelector(\"" + card + " details.feature[data-feature='" + index
                    + "']\").getBoundingClientRect(); return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; })()");
            byte[] png = cdp.screenshot();
            Files.write(dir.resolve("france-report.png"), png);
            Chromium.keep(dir.resolve("france-report.png"), "france-report.png");
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            assertTrue(img.getWidth() >= 1380, "screenshot width " + img.getWidth()); // 1400 less a scrollbar
            int orange = 0; // the token shading, rgba(255,112,0,a) over white
            int x0 = box.get("x").asInt(), y0 = box.get("y").asInt();
            for (int y = Math.max(0, y0); y < Math.min(img.getHeight(), y0 + box.get("h").asInt()); y++) {
                for (int x = Math.max(0, x0); x < Math.min(img.getWidth(), x0 + box.get("w").asInt()); x++) {
                    int rgb = img.getRGB(x, y), r = rgb >> 16 & 255, g = rgb >> 8 & 255, b = rgb & 255;
                    if (r > 235 && b < 150 && g > b + 40 && g < r - 40) orange++;
                }
            }
            assertTrue(orange > 300, "no token shading visible in the open card: " + orange + " orange pixels");
        }
    }

    @Test
    void steerReportShowsTheSteeringVerdictIntervalsPerplexityAndDistinctColours() throws Exception {
        JsonNode steering = JSON.readTree(steer.resolve("steering.json").toFile());
        JsonNode verdict = steering.get("verdict");
        JsonNode results = JSON.readTree(france.resolve("results.json").toFile());
        try (CdpSession cdp = CdpSession.start(dir, 1400, 1000)) {
            open(cdp, steer.resolve("report.html"));
            assertEquals(verdict.get("sentence").asText(), cdp.eval("document.querySelector('#steering #steering-verdict .reason').textContent").asText());
            assertEquals(verdict.get("decision").asText(), cdp.eval("document.querySelector('#steering #steering-verdict').getAttribute('data-decision')").asText());
            assertFalse(cdp.eval("!!document.querySelector('#steering #verdict')").asBoolean(), "the France verdict banner in the steering section");
            // the summary carries both verdicts, the feature map's first
            assertEquals(results.get("verdict").get("reason").asText(), cdp.eval("document.querySelector('#summary #verdict .reason').textContent").asText());
            assertEquals(verdict.get("sentence").asText(), cdp.eval("document.querySelector('#summary #steering-verdict .reason').textContent").asText());

            // one table row per steering cell, each score with its interval, perplexity included
            JsonNode cells = steering.get("cells");
            JsonNode rows = cdp.eval("Array.from(document.querySelectorAll('#steering-cells tr')).slice(1).map(r => Array.from(r.cells).map(c => c.textContent))");
            assertEquals(cells.size(), rows.size());
            JsonNode header = cdp.eval("Array.from(document.querySelectorAll('#steering-cells th')).map(c => c.textContent)");
            assertTrue(header.toString().contains("perplexity"), header.toString());
            for (int i = 0; i < cells.size(); i++) {
                JsonNode c = cells.get(i);
                JsonNode r = rows.get(i);
                assertEquals(c.get("condition").asText(), r.get(0).asText());
                JsonNode ppl = c.get("perplexity");
                String cell = r.get(6).asText();
                if (ppl.get("mean").isNumber()) {
                    assertEquals(String.format(java.util.Locale.ROOT, "%.3f [%.3f, %.3f]", ppl.get("mean").asDouble(), ciLow(ppl), ciHigh(ppl)), cell);
                }
            }

            // legend: one entry per condition, no colour twice
            JsonNode legend = cdp.eval("document.getElementById('plot-steering').data.filter(t => t.showlegend !== false).map(t => [t.name, t.line.color])");
            List<String> conditions = new ArrayList<>();
            HashSet<String> colours = new HashSet<>();
            for (JsonNode e : legend) {
                conditions.add(e.get(0).asText());
                assertTrue(colours.add(e.get(1).asText()), "colour " + e.get(1) + " repeats in the legend " + legend);
            }
            assertEquals(new HashSet<>(conditions).size(), conditions.size(), "a condition twice in the legend: " + legend);
            assertTrue(conditions.size() >= 4, "conditions in the legend: " + legend);

            assertNoErrors(cdp);
            cdp.eval("document.querySelectorAll('details').forEach(d => { if (d.closest('#steering')) d.open = true; }), true");
            cdp.eval("window.scrollTo(0, 0), true");
            byte[] png = cdp.screenshot();
            Files.write(dir.resolve("steer-report.png"), png);
            Chromium.keep(dir.resolve("steer-report.png"), "steer-report.png");
        }
    }

    /** steering.json's interval bounds (Metrics.Estimate: ciLow/ciHigh, in whichever case the file spells them). */
    private static double ciLow(JsonNode e) {
        return (e.has("ciLow") ? e.get("ciLow") : e.get("ci_low")).asDouble();
    }

    private static double ciHigh(JsonNode e) {
        return (e.has("ciHigh") ? e.get("ciHigh") : e.get("ci_high")).asDouble();
    }

    private static void open(CdpSession cdp, Path html) throws Exception {
        cdp.navigate(html.toUri().toString());
        cdp.waitUntil("document.getElementById('jlens-selfcheck').getAttribute('data-state') === 'done'", "the report's self-check", 60);
    }

    private static void assertNoErrors(CdpSession cdp) throws Exception {
        JsonNode check = JSON.readTree(cdp.eval("document.getElementById('jlens-selfcheck').textContent").asText());
        assertEquals(0, check.get("errors").size(), () -> "page errors: " + check.get("errors"));
        assertEquals(List.of(), cdp.pageErrors, "console errors or exceptions");
        check.get("plots").fields().forEachRemaining(p -> assertTrue(p.getValue().get("rendered").asBoolean(), p.getKey() + " did not render: " + check));
    }

    private static List<Double> column(CdpSession cdp, String table, int col) throws Exception {
        JsonNode v = cdp.eval("Array.from(document.querySelectorAll('" + table + " table tr')).slice(1).map(r => r.cells[" + (col - 1) + "].textContent)");
        List<Double> out = new ArrayList<>();
        for (JsonNode n : v) out.add(Double.parseDouble(n.asText()));
        return out;
    }
}
