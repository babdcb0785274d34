package dev.jlens.atlas.browser;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.formats.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Writes the offline feature browser of one atlas folder: {@code atlas.html} and its data in {@code atlas-data/}.
 *
 * <p>The page opens from disk with no network. Its data are JavaScript files loaded on demand with
 * {@code <script src>} (file:// forbids fetch/XHR): {@code index.js} (run metadata, the density histogram and one
 * summary row per live feature), {@code features-NNNN.js} (the full features with ids in
 * {@code [N * pageSize, (N + 1) * pageSize)}, loaded when one of them is opened) and {@code tokens-NNN.js} (the
 * token search index, hashed into buckets). {@code features.jsonl} is read once, streaming, holding one page of
 * features at a time. Links: {@code atlas.html#feature=337} opens a feature, {@code #token=Paris} a token search.
 *
 * <p>The data folder is written to a temporary folder next to it and renamed into place, then the HTML is written
 * atomically; a failed run leaves the previous browser as it was.
 */
public final class AtlasBrowser {
    private static final System.Logger LOG = System.getLogger(AtlasBrowser.class.getName());

    public static final String HTML_FILE = "atlas.html";
    public static final String DATA_DIR = "atlas-data";
    public static final String INDEX_FILE = "index.js";
    /** Features per page file: a feature page loads one file of this many features. */
    public static final int DEFAULT_PAGE_SIZE = 128;

    private AtlasBrowser() {}

    /** Writes the browser with {@link #DEFAULT_PAGE_SIZE} features per page file; returns {@code atlas.html}. */
    public static Path write(Path atlasDir) throws IOException {
        return write(atlasDir, DEFAULT_PAGE_SIZE);
    }

    /**
     * Writes {@code atlasDir/atlas.html} and {@code atlasDir/atlas-data/} from the atlas folder's {@code atlas.json}
     * and {@code features.jsonl}.
     *
     * @param pageSize features per page file, in [1, 65536]
     * @return the HTML file
     * @throws dev.jlens.formats.FormatException when an input file does not follow the atlas format (names file,
     *                                           line and field)
     */
    public static Path write(Path atlasDir, int pageSize) throws IOException {
        Objects.requireNonNull(atlasDir, "atlasDir");
        if (pageSize < 1 || pageSize > 65_536) throw new IllegalArgumentException("pageSize must be in [1, 65536], got " + pageSize);
        long t0 = System.nanoTime();
        AtlasInfo info = AtlasInfo.read(atlasDir);
        Path tmp = Files.createTempDirectory(atlasDir, "." + DATA_DIR + "-");
        try {
            Written w = writeData(atlasDir, info, tmp, pageSize);
            replace(tmp, atlasDir.resolve(DATA_DIR));
            Path html = atlasDir.resolve(HTML_FILE);
            AtomicFiles.writeString(html, AtlasPage.render(info));
            LOG.log(System.Logger.Level.INFO, () -> String.format(Locale.ROOT,
                    "atlas browser: %d features in %d page files (%.1f MB), %d token keys in %d buckets (%.1f MB),"
                            + " index %.1f MB, %.1f s -> %s", w.features, w.pages, w.pageBytes / 1e6, w.tokenKeys,
                    w.buckets, w.tokenBytes / 1e6, w.indexBytes / 1e6, (System.nanoTime() - t0) / 1e9, html));
            return html;
        } finally {
            deleteTree(tmp);
        }
    }

    private record Written(int features, int pages, long pageBytes, int tokenKeys, int buckets, long tokenBytes, long indexBytes) {}

    private static Written writeData(Path atlasDir, AtlasInfo info, Path out, int pageSize) throws IOException {
        FeatureSummary summary = new FeatureSummary();
        TokenIndex tokens = new TokenIndex();
        List<Integer> pages = new ArrayList<>();
        List<AtlasFeature> page = new ArrayList<>();
        long pageBytes = 0;
        try (FeatureReader reader = FeatureReader.open(atlasDir, info)) {
            for (AtlasFeature f; (f = reader.next()) != null; ) {
                if (!page.isEmpty() && f.feature() / pageSize != pages.getLast()) {
                    pageBytes += writePage(out, pages.getLast(), page);
                    page.clear();
                }
                if (page.isEmpty()) pages.add(f.feature() / pageSize);
                page.add(f);
                summary.add(f);
                tokens.add(f);
            }
        }
        if (!page.isEmpty()) pageBytes += writePage(out, pages.getLast(), page);
        long tokenBytes = tokens.write(out);
        long indexBytes = ScriptData.write(out.resolve(INDEX_FILE), "index",
                g -> writeIndex(g, info, summary, pageSize, pages, tokens));
        return new Written(summary.size(), pages.size(), pageBytes, tokens.keys(), tokens.buckets(), tokenBytes, indexBytes);
    }

    static String pageFileName(int page) {
        return String.format(Locale.ROOT, "features-%04d.js", page);
    }

    private static long writePage(Path out, int number, List<AtlasFeature> features) throws IOException {
        return ScriptData.write(out.resolve(pageFileName(number)), "page", number, g -> {
            g.writeStartArray();
            for (AtlasFeature f : features) FeatureJson.write(g, f);
            g.writeEndArray();
        });
    }

    private static void writeIndex(JsonGenerator g, AtlasInfo info, FeatureSummary summary, int pageSize,
                                   List<Integer> pages, TokenIndex tokens) throws IOException {
        g.writeStartObject();
        ObjectNode meta = info.raw().deepCopy();
        meta.remove("density_histogram");
        meta.remove("activation_bins");
        g.writeFieldName("meta");
        g.writeTree(meta);
        g.writeNumberField("pageSize", pageSize);
        g.writeArrayFieldStart("pages");
        for (int p : pages) g.writeNumber(p);
        g.writeEndArray();
        g.writeNumberField("tokenBuckets", tokens.buckets());
        g.writeObjectFieldStart("densityHistogram");
        g.writeArrayFieldStart("edges");
        for (double e : info.densityEdges()) g.writeNumber(e);
        g.writeEndArray();
        g.writeArrayFieldStart("counts");
        for (long c : info.densityCounts()) g.writeNumber(c);
        g.writeEndArray();
        g.writeEndObject();
        g.writeArrayFieldStart("activationEdges");
        for (double e : info.activationEdges()) g.writeNumber(e);
        g.writeEndArray();
        g.writeFieldName("features");
        summary.write(g);
        g.writeEndObject();
    }

    /** Moves {@code fresh} to {@code target}, replacing the folder there (the old one is renamed aside first). */
    private static void replace(Path fresh, Path target) throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old = target.resolveSibling("." + DATA_DIR + "-old-" + Long.toHexString(System.nanoTime()));
            Files.move(target, old);
        }
        try {
            Files.move(fresh, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(fresh, target);
        } catch (IOException e) {
            if (old != null) Files.move(old, target); // put the previous browser back
            throw e;
        }
        if (old != null) deleteTree(old);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
