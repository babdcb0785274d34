package dev.jlens.atlas.browser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.formats.FormatException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The browser's data files against the fixture atlas they were written from (no browser needed). */
class AtlasBrowserTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A 2000-feature atlas and its browser (128 features per page), shared by the tests that only read them. */
    @TempDir static Path shared;
    private static AtlasFixture fx;
    private static Path html;
    @TempDir Path dir;

    @BeforeAll
    static void writeAtlasAndBrowser() throws IOException {
        fx = AtlasFixture.write(shared, 2000, 20, null);
        html = AtlasBrowser.write(shared, 128);
    }

    @Test
    void indexListsEveryLiveFeatureWithItsSummaryAndThePagesHoldTheFullFeatures() throws IOException {
        assertEquals(shared.resolve("atlas.html"), html);
        Path data = shared.resolve(AtlasBrowser.DATA_DIR);

        JsonNode index = jsonp(data.resolve("index.js"), "index");
        List<Integer> alive = fx.aliveFeatures();
        assertEquals(alive.size(), index.at("/features/id").size());
        for (int r = 0; r < alive.size(); r++) {
            int f = alive.get(r);
            assertEquals(f, index.at("/features/id/" + r).intValue());
            assertEquals(fx.density(f), index.at("/features/density/" + r).doubleValue(), 0.0);
            assertEquals(fx.max(f), index.at("/features/max/" + r).floatValue());
            assertEquals(fx.fires(f), index.at("/features/fires/" + r).longValue());
            assertEquals(expectedTopTokens(fx, f), strings(index.at("/features/top/" + r)), "top tokens of feature " + f);
        }
        assertEquals(128, index.get("pageSize").intValue());
        assertEquals(25, index.at("/densityHistogram/edges").size());
        assertEquals(AtlasFixture.BINS + 1, index.get("activationEdges").size());
        assertTrue(index.at("/meta/density_histogram").isMissingNode(), "the histograms are not repeated in meta");
        assertEquals("blocks.12.hook_resid_post", index.at("/meta/hook_name").textValue());

        // 2000 ids / 128 per page = 16 page files, each holding exactly the live features of its id range
        List<Integer> pages = new ArrayList<>();
        index.get("pages").forEach(p -> pages.add(p.intValue()));
        assertEquals(16, pages.size());
        for (int p : pages) {
            JsonNode page = jsonp(data.resolve(AtlasBrowser.pageFileName(p)), "page", p);
            List<Integer> ids = new ArrayList<>();
            page.forEach(f -> ids.add(f.get("feature").intValue()));
            assertEquals(alive.stream().filter(f -> f / 128 == p).toList(), ids, "page " + p);
        }
        JsonNode page = jsonp(data.resolve(AtlasBrowser.pageFileName(1130 / 128)), "page", 1130 / 128);
        JsonNode f1130 = null;
        for (JsonNode f : page) if (f.get("feature").intValue() == 1130) f1130 = f;
        assertTrue(f1130 != null);
        List<AtlasFixture.Example> top = fx.top(1130);
        assertEquals(top.size(), f1130.get("top").size());
        for (int i = 0; i < top.size(); i++) {
            JsonNode e = f1130.at("/top/" + i);
            assertEquals(top.get(i).tokens(), strings(e.get("tokens")), "tokens survive exactly, nasty ones included");
            assertEquals(top.get(i).value(), e.get("value").floatValue());
            for (int t = 0; t < top.get(i).values().length; t++) {
                assertEquals(top.get(i).values()[t], e.at("/values/" + t).floatValue());
            }
            assertFalse(e.has("token_ids"), "the browser does not need token ids");
        }
        assertEquals(AtlasFixture.QUANTILES, f1130.get("quantiles").size());
        assertEquals(10, f1130.at("/logits/positive").size());
        assertEquals("<script>alert(1)</script>", f1130.at("/logits/positive/0/0").textValue());
    }

    @Test
    void tokenBucketsAnswerWhichFeaturesPeakOnAToken() throws IOException {
        Path data = shared.resolve(AtlasBrowser.DATA_DIR);
        int buckets = jsonp(data.resolve("index.js"), "index").get("tokenBuckets").intValue();
        Map<String, JsonNode> entries = new HashMap<>();
        for (int b = 0; b < buckets; b++) {
            for (JsonNode e : jsonp(data.resolve(TokenIndex.fileName(b)), "tokens", b)) {
                String key = e.get("key").textValue();
                assertEquals(b, TokenIndex.bucket(key, buckets), "key " + key + " is in the bucket its hash names");
                assertTrue(entries.put(key, e) == null, "key " + key + " in two buckets");
            }
        }
        try (Stream<Path> files = Files.list(data)) {
            assertEquals(buckets, files.filter(p -> p.getFileName().toString().startsWith("tokens-")).count());
        }

        // " Paris", "Paris" and "▁Paris" meet under one key; lower case, stripped of spaces and ▁
        Set<String> parisForms = Set.of(" Paris", "Paris", "▁Paris");
        JsonNode paris = entries.get("paris");
        assertEquals(parisForms, new HashSet<>(strings(paris.get("forms"))));
        assertEquals(expectedRanking(fx, parisForms), featureIds(paris.get("features")));
        for (JsonNode hit : paris.get("features")) {
            assertEquals(fx.examplesPeakingOn(hit.get(0).intValue(), parisForms), hit.get(1).intValue());
        }
        // texts that are not words are keys of their own
        for (String nasty : List.of("<script>alert(1)</script>", "\n", "\u0000", "__proto__", "", " ", "\u2028")) {
            JsonNode e = entries.get(TokenIndex.key(nasty));
            assertTrue(e != null, "no entry for " + JSON.writeValueAsString(nasty));
            assertEquals(expectedRanking(fx, Set.of(nasty)), featureIds(e.get("features")), JSON.writeValueAsString(nasty));
        }
        assertEquals(" ", TokenIndex.key(" "), "a token of only spaces keeps its text as its key");
        assertEquals("paris", TokenIndex.key("\u2581Paris "));
    }

    @Test
    void dataFilesCannotEndAScriptElementOrAJavaScriptLine() throws IOException {
        AtlasFixture.write(dir, 300, 20, null);
        AtlasBrowser.write(dir, 64);
        try (Stream<Path> files = Files.list(dir.resolve(AtlasBrowser.DATA_DIR))) {
            for (Path p : files.toList()) {
                String js = Files.readString(p, StandardCharsets.UTF_8);
                for (String bad : List.of("<", ">", "&", "\u2028", "\u2029")) {
                    assertFalse(js.contains(bad), p.getFileName() + " contains a raw " + JSON.writeValueAsString(bad));
                }
                assertTrue(js.startsWith("jlensAtlas.") && js.endsWith(");\n"), p.getFileName() + " is one call");
            }
        }
        String html = Files.readString(dir.resolve("atlas.html"));
        assertTrue(html.contains("layer_12/width_16k/canonical &lt;&amp;&quot;&gt;"), "the SAE id is escaped in the page");
        assertFalse(html.contains("canonical <&"), "raw SAE id in the page");
    }

    @Test
    void rewritingReplacesTheWholeDataFolderAndLeavesNoTemporaryFolders() throws IOException {
        AtlasFixture.write(dir, 600, 5, null);
        AtlasBrowser.write(dir, 64);
        assertTrue(Files.exists(dir.resolve(AtlasBrowser.DATA_DIR).resolve(AtlasBrowser.pageFileName(9))));
        AtlasBrowser.write(dir, 1000);
        Path data = dir.resolve(AtlasBrowser.DATA_DIR);
        assertFalse(Files.exists(data.resolve(AtlasBrowser.pageFileName(9))), "a page of the old layout survived");
        assertTrue(Files.exists(data.resolve(AtlasBrowser.pageFileName(0))));
        assertEquals(540, jsonp(data.resolve(AtlasBrowser.pageFileName(0)), "page", 0).size());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(Set.of("atlas.json", "features.jsonl", "atlas.html", "atlas-data"),
                    new TreeSet<>(files.map(p -> p.getFileName().toString()).toList()));
        }
    }

    @Test
    void aBrokenFeatureLineNamesFileLineAndFieldAndKeepsThePreviousBrowser() throws IOException {
        AtlasFixture.write(dir, 40, 5, null);
        AtlasBrowser.write(dir, 16);
        Path features = dir.resolve("features.jsonl");
        List<String> lines = new ArrayList<>(Files.readAllLines(features));
        String good = lines.get(2);

        lines.set(2, good.replaceFirst("\"position\":\\d+", "\"position\":9999"));
        Files.write(features, lines);
        FormatException e = assertThrows(FormatException.class, () -> AtlasBrowser.write(dir, 16));
        assertTrue(e.getMessage().contains("features.jsonl") && e.getMessage().contains("line 3, feature 2: top[0].tokens")
                && e.getMessage().contains("position 9999 is outside the window"), e.getMessage());

        lines.set(2, lines.get(1));
        Files.write(features, lines);
        e = assertThrows(FormatException.class, () -> AtlasBrowser.write(dir, 16));
        assertTrue(e.getMessage().contains("line 3: feature") && e.getMessage().contains("ids must ascend"), e.getMessage());

        lines.set(2, good.replaceFirst("\"lo\":0,", "\"lo\":159,"));
        Files.write(features, lines);
        e = assertThrows(FormatException.class, () -> AtlasBrowser.write(dir, 16));
        assertTrue(e.getMessage().contains("histogram.lo") && e.getMessage().contains("160 shared activation bins"), e.getMessage());

        // the failed runs left the earlier browser complete and no temporary folder behind
        assertTrue(Files.exists(dir.resolve(AtlasBrowser.DATA_DIR).resolve("index.js")));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(4, files.count());
        }
        Files.writeString(dir.resolve("atlas.json"), Files.readString(dir.resolve("atlas.json"))
                .replace("jlens-atlas/1", "jlens-atlas/9"));
        e = assertThrows(FormatException.class, () -> AtlasBrowser.write(dir));
        assertTrue(e.getMessage().contains("atlas.json: format: expected \"jlens-atlas/1\""), e.getMessage());
    }

    // --- expectations computed from the fixture, not from the code under test ----------------------------------

    /** The commonest max tokens of the fixture feature's top examples, ties by first appearance, at most 3. */
    static List<String> expectedTopTokens(AtlasFixture fx, int f) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (AtlasFixture.Example e : fx.top(f)) counts.merge(e.maxToken(), 1, Integer::sum);
        List<String> keys = new ArrayList<>(counts.keySet());
        keys.sort((a, b) -> counts.get(b) - counts.get(a));
        return keys.subList(0, Math.min(3, keys.size()));
    }

    /** Features peaking on {@code forms}: most such examples first, then best value, then id. */
    static List<Integer> expectedRanking(AtlasFixture fx, Set<String> forms) {
        List<Integer> ids = new ArrayList<>(fx.featuresPeakingOn(forms));
        Map<Integer, Float> best = new HashMap<>();
        for (int f : ids) {
            for (AtlasFixture.Example e : fx.top(f)) if (forms.contains(e.maxToken())) best.merge(f, e.value(), Math::max);
        }
        ids.sort((a, b) -> {
            int c = Integer.compare(fx.examplesPeakingOn(b, forms), fx.examplesPeakingOn(a, forms));
            if (c != 0) return c;
            c = Float.compare(best.get(b), best.get(a));
            return c != 0 ? c : Integer.compare(a, b);
        });
        return ids;
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.textValue()));
        return out;
    }

    private static List<Integer> featureIds(JsonNode hits) {
        List<Integer> out = new ArrayList<>();
        hits.forEach(h -> out.add(h.get(0).intValue()));
        return out;
    }

    /** The JSON argument of a data file {@code jlensAtlas.fn(value);}. */
    static JsonNode jsonp(Path file, String fn) throws IOException {
        return unwrap(file, "jlensAtlas." + fn + "(");
    }

    /** The JSON argument of a data file {@code jlensAtlas.fn(key, value);}. */
    static JsonNode jsonp(Path file, String fn, int key) throws IOException {
        return unwrap(file, "jlensAtlas." + fn + "(" + key + ", ");
    }

    private static JsonNode unwrap(Path file, String head) throws IOException {
        String js = Files.readString(file, StandardCharsets.UTF_8);
        assertTrue(js.startsWith(head), file + " starts with " + js.substring(0, Math.min(40, js.length())));
        assertTrue(js.endsWith(");\n"), file + " does not end with );");
        return JSON.readTree(js.substring(head.length(), js.length() - 3));
    }
}
