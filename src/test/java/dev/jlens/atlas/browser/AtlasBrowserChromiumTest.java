package dev.jlens.atlas.browser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Opens the written browser from disk in a real headless Chromium (no network: every host name fails to resolve)
 * and checks what it shows: a {@code #feature=N} link opens that feature with its top examples shaded, the token
 * search finds the features the fixture says peak on a token, real mouse clicks and typing (DevTools protocol over
 * a pipe) navigate, and the page recorded no script error. Screenshots and DOMs are kept under
 * {@code <build dir>/atlas-browser/}. Without Chromium the test is skipped, except on CI where that fails.
 */
class AtlasBrowserChromiumTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SELF_CHECK = Pattern.compile(
            "<pre id=\"" + AtlasPage.SELF_CHECK_ID + "\" data-state=\"([a-z]+)\">(.*?)</pre>", Pattern.DOTALL);
    private static final Pattern TOKEN_SPAN = Pattern.compile("<span class=\"tok( on)?( max)?\" data-v=\"([^\"]*)\"");
    /** Feature 1130: all 20 top examples, 15 peaking on "<script>alert(1)</script>"; its logit lens lists control characters. */
    private static final int FEATURE = 1130;

    /** One atlas and browser for all tests (writing them takes seconds); each test has its own Chromium profile. */
    @TempDir static Path shared;
    private static AtlasFixture fx;
    private static Path html;
    @TempDir Path dir;

    @BeforeAll
    static void writeAtlasAndBrowser() throws Exception {
        Chromium.executable(); // skips (or on CI fails) the class without Chromium
        fx = AtlasFixture.write(shared.resolve("atlas"), 2000, 20, "gemma-2-2b/12-gemmascope-res-16k");
        html = AtlasBrowser.write(shared.resolve("atlas"));
    }

    @Test
    void featureLinkOpensTheFeatureWithItsTopExamplesShaded() throws Exception {
        Chromium.Dump dump = Chromium.dumpDom(dir, html.toUri() + "#feature=" + FEATURE, 1280, 2400, "feature");

        JsonNode check = selfCheck(dump);
        assertEquals("feature", check.get("route").asText(), check::toString);
        assertEquals(FEATURE, check.get("feature").asInt());
        assertTrue(dump.dom().contains("id=\"feature-view\" data-feature=\"" + FEATURE + "\""), "feature view missing");

        String top = section(dump.dom(), "top-examples");
        List<AtlasFixture.Example> examples = fx.top(FEATURE);
        int positive = 0;
        for (AtlasFixture.Example e : examples) for (float v : e.values()) if (v > 0) positive++;
        int shaded = 0;
        List<Float> maxValues = new ArrayList<>();
        Matcher m = TOKEN_SPAN.matcher(top);
        int spans = 0;
        while (m.find()) {
            spans++;
            float v = Float.parseFloat(m.group(3));
            if (m.group(1) != null) {
                shaded++;
                assertTrue(v > 0, "a shaded token with value " + v);
            } else {
                assertEquals(0f, v, "an unshaded token with a value");
            }
            if (m.group(2) != null) maxValues.add(v);
        }
        int windowTokens = examples.stream().mapToInt(e -> e.tokens().size()).sum();
        assertEquals(windowTokens, spans, "one span per window token");
        assertEquals(positive, shaded, "every token with a positive activation is shaded, no other");
        assertEquals(examples.stream().map(AtlasFixture.Example::value).toList(), maxValues,
                "each example outlines its max token, with the example's value");
        assertEquals(positive, check.get("shaded").asInt());
        // the max value shows, the peak token shows as text, and the hostile text never became markup
        assertTrue(top.contains("data-v=\"" + fx.max(FEATURE) + "\""), "max value missing");
        assertTrue(top.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "peak token text missing");
        assertFalse(dump.dom().contains("<script>alert"), "a token became markup");
        // control and invisible characters show as visible marks (here in the logit-lens lists): "\n", NUL, a
        // right-to-left override (which would otherwise reverse the text after it) and the empty string
        for (String mark : List.of("\u21b5", "\\x00", "\\u202e", "\u2205")) {
            assertTrue(dump.dom().contains("<span class=\"ctl\">" + mark + "</span>"), "no visible mark " + mark);
        }
        assertFalse(dump.dom().contains("\u202e"), "a raw bidi override reached the page");
        assertTrue(dump.dom().contains("id=\"activation-histogram\""), "activation histogram missing");
        assertTrue(dump.dom().contains("href=\"https://www.neuronpedia.org/gemma-2-2b/12-gemmascope-res-16k/" + FEATURE + "\""));

        BufferedImage img = ImageIO.read(dump.screenshot().toFile());
        assertTrue(countNear(img, 0xff7000, 60) > 500, "no activation shading visible in the screenshot");
    }

    @Test
    void tokenSearchFindsTheFeaturesWhoseTopExamplesPeakOnTheToken() throws Exception {
        record Case(String query, Set<String> forms) {}
        for (Case c : List.of(new Case("Paris", Set.of(" Paris", "Paris", "▁Paris")),
                new Case("<script>alert(1)</script>", Set.of("<script>alert(1)</script>")),
                new Case("__proto__", Set.of("__proto__")))) {
            String name = "token-" + Integer.toHexString(c.query().hashCode());
            Chromium.Dump dump = Chromium.dumpDom(dir, html.toUri() + "#token="
                    + URLEncoder.encode(c.query(), StandardCharsets.UTF_8), 1280, 1600, name);
            JsonNode check = selfCheck(dump);
            assertEquals("token", check.get("route").asText(), check::toString);
            List<Integer> found = new ArrayList<>();
            check.get("features").forEach(n -> found.add(n.asInt()));
            List<Integer> expected = AtlasBrowserTest.expectedRanking(fx, c.forms());
            assertFalse(expected.isEmpty());
            assertEquals(expected, found, "features for " + c.query());
            // the table shows the first 100 and a button for the rest
            assertEquals(Math.min(100, expected.size()), count(section(dump.dom(), "token-results"), "<tr class=\"feature-row\""));
        }
    }

    @Test
    void realClicksAndTypingNavigateBetweenOverviewFeatureAndSearch() throws Exception {
        try (CdpSession cdp = CdpSession.start(dir, 1280, 1000)) {
            cdp.navigate(html.toUri().toString());
            awaitRoute(cdp, "overview");
            assertEquals(50, cdp.eval("document.querySelectorAll('#feature-table tbody tr').length").asInt());
            assertEquals(24, cdp.eval("document.querySelectorAll('#density-histogram .bar').length").asInt());
            screenshot(cdp, "overview.png");

            // the default order is density descending; a click on "Max act." sorts by max, descending
            cdp.click("#feature-table th:nth-child(3)");
            cdp.waitUntil("location.hash.includes('sort=max')", "sort by max", 20);
            awaitRoute(cdp, "overview");
            int firstByMax = cdp.eval("+document.querySelector('#feature-table tbody tr').dataset.feature").asInt();
            float best = fx.aliveFeatures().stream().map(fx::max).max(Float::compare).orElseThrow();
            assertEquals(best, fx.max(firstByMax), "first row after sorting by max");

            // a click anywhere on a row (here its top-token cell) opens that feature
            String third = cdp.eval("document.querySelectorAll('#feature-table tbody tr')[2].dataset.feature").asText();
            cdp.click("#feature-table tbody tr:nth-child(3) td.tops");
            cdp.waitUntil("location.hash === '#feature=" + third + "'", "the clicked row's feature", 20);
            JsonNode check = awaitRoute(cdp, "feature");
            assertEquals(Integer.parseInt(third), check.get("feature").asInt());
            assertTrue(check.get("shaded").asInt() > 0, "no shaded tokens on the clicked feature's page");
            screenshot(cdp, "feature-clicked.png");

            // typing into the token box and pressing Enter searches
            cdp.click("#token-input");
            cdp.typeAndEnter("Paris");
            check = awaitRoute(cdp, "token");
            List<Integer> found = new ArrayList<>();
            check.get("features").forEach(n -> found.add(n.asInt()));
            assertEquals(AtlasBrowserTest.expectedRanking(fx, Set.of(" Paris", "Paris", "▁Paris")), found);
            screenshot(cdp, "token-search.png");

            // a click on a density bar lists the features of that bin
            cdp.navigate(html.toUri() + "#");
            awaitRoute(cdp, "overview");
            int bin = cdp.eval("[...document.querySelectorAll('#density-histogram .bar')].findIndex(b => +b.dataset.count > 60)").asInt();
            assertTrue(bin >= 0, "no well-filled density bin");
            cdp.click("#density-histogram .bin:nth-of-type(" + (bin + 1) + ") .hit");
            cdp.waitUntil("location.hash.includes('dlo=')", "density filter", 20);
            check = awaitRoute(cdp, "overview");
            JsonNode hash = cdp.eval("Object.fromEntries(new URLSearchParams(location.hash.slice(1)))");
            double lo = hash.get("dlo").asDouble();
            double hi = hash.get("dhi").asDouble();
            assertEquals(-6 + bin * 0.25, lo, 1e-12);
            long inBin = fx.aliveFeatures().stream().filter(f -> Math.log10(fx.density(f)) >= lo && Math.log10(fx.density(f)) < hi).count();
            assertEquals(inBin, check.get("matching").asLong(), "features listed for the clicked density bin");
            assertEquals(cdp.eval("+document.querySelectorAll('#density-histogram .bar')[" + bin + "].dataset.count").asLong(), inBin,
                    "the bar's height and the listed features agree");
            assertEquals(0, cdp.eval("window.__atlasErrors.length").asInt(), () -> "page errors: " + cdp.pageErrors);
            assertTrue(cdp.pageErrors.isEmpty(), () -> "DevTools saw errors: " + cdp.pageErrors);
        }
    }

    private static JsonNode awaitRoute(CdpSession cdp, String route) throws Exception {
        cdp.waitUntil("(() => { const e = document.getElementById('atlas-selfcheck'); return e.dataset.state === 'done'"
                + " && JSON.parse(e.textContent).route === '" + route + "'; })()", route + " page", 30);
        JsonNode check = JSON.readTree(cdp.eval("document.getElementById('atlas-selfcheck').textContent").asText());
        assertEquals(0, check.get("errors").size(), () -> "page errors: " + check.get("errors"));
        return check;
    }

    private void screenshot(CdpSession cdp, String name) throws Exception {
        byte[] png = cdp.screenshot();
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertTrue(img.getWidth() >= 1200 && img.getHeight() >= 900, "screenshot " + img.getWidth() + "x" + img.getHeight());
        Path file = dir.resolve(name);
        Files.write(file, png);
        Chromium.keep(file, name);
    }

    /** The page's self-check, asserted finished and error-free. */
    private static JsonNode selfCheck(Chromium.Dump dump) throws Exception {
        Matcher m = SELF_CHECK.matcher(dump.dom());
        assertTrue(m.find(), () -> "self-check element missing; stderr:\n" + dump.stderr());
        assertEquals("done", m.group(1), () -> "page never finished: " + m.group(2) + "\nstderr:\n" + dump.stderr());
        JsonNode check = JSON.readTree(unescapeText(m.group(2)));
        assertEquals(0, check.get("errors").size(), () -> "page errors: " + check.get("errors"));
        return check;
    }

    /** The outer HTML of the element with {@code id} (elements of that tag nest only as far as the page nests them). */
    private static String section(String dom, String id) {
        int at = dom.indexOf("id=\"" + id + "\"");
        assertTrue(at >= 0, "no element with id " + id);
        int open = dom.lastIndexOf('<', at);
        String tag = dom.substring(open + 1, dom.indexOf(' ', open));
        int depth = 0;
        Matcher m = Pattern.compile("<(/?)" + tag + "[\\s>]").matcher(dom);
        m.region(open, dom.length());
        while (m.find()) {
            depth += m.group(1).isEmpty() ? 1 : -1;
            if (depth == 0) return dom.substring(open, m.end());
        }
        return dom.substring(open);
    }

    private static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
        return n;
    }

    /** Pixels within {@code tolerance} (per channel) of {@code rgb}. */
    private static int countNear(BufferedImage img, int rgb, int tolerance) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y);
                if (Math.abs(((p >> 16) & 255) - ((rgb >> 16) & 255)) <= tolerance
                        && Math.abs(((p >> 8) & 255) - ((rgb >> 8) & 255)) <= tolerance
                        && Math.abs((p & 255) - (rgb & 255)) <= tolerance) n++;
            }
        }
        return n;
    }

    /** Undoes the escaping Chromium's DOM serialiser applies to text nodes. */
    private static String unescapeText(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", "\u00a0").replace("&amp;", "&");
    }
}
