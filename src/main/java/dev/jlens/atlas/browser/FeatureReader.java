package dev.jlens.atlas.browser;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.formats.FormatException;
import dev.jlens.util.Json;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Streams {@code features.jsonl} one feature at a time (a 16k-feature atlas is never held in memory at once),
 * checking each line against {@code atlas.json}: ascending feature ids below d_sae, histograms inside the shared
 * bins, every max token inside its window.
 */
final class FeatureReader implements Closeable {
    static final String FILE_NAME = "features.jsonl";

    private final Path file;
    private final AtlasInfo info;
    private final BufferedReader in;
    private int lineNumber;
    private int previous = -1;

    private FeatureReader(Path file, AtlasInfo info, BufferedReader in) {
        this.file = file;
        this.info = info;
        this.in = in;
    }

    /** Opens {@code dir/features.jsonl} of the atlas described by {@code info}. */
    static FeatureReader open(Path dir, AtlasInfo info) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) throw new FormatException(file, "file", "missing from the atlas folder");
        return new FeatureReader(file, info, Files.newBufferedReader(file, StandardCharsets.UTF_8));
    }

    /** The next feature, or null at the end of the file; blank lines are skipped. */
    AtlasFeature next() throws IOException {
        String line;
        do {
            line = in.readLine();
            if (line == null) return null;
            lineNumber++;
        } while (line.isBlank());
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(line);
        } catch (JacksonException e) {
            throw new FormatException(file, "line " + lineNumber, "not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!node.isObject()) throw new FormatException(file, "line " + lineNumber, "expected a JSON object");
        JsonFields root = new JsonFields(file, "line " + lineNumber + ": ", node);
        int id = root.intValue("feature");
        if (id < 0 || id >= info.dSae()) throw root.error("feature", id + " is outside [0, d_sae = " + info.dSae() + ")");
        if (id <= previous) throw root.error("feature", id + " after " + previous + ": ids must ascend");
        previous = id;
        return AtlasFeature.parse(new JsonFields(file, "line " + lineNumber + ", feature " + id + ": ", node), info.activationBins());
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
