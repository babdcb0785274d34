package dev.jlens.atlas.corpus;

import dev.jlens.util.FileHashes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What corpus to read and how to cut it into contexts; every value is checked here, before any file is read, and a
 * bad one fails with an IllegalArgumentException naming the option and the value.
 *
 * @param inputs the {@code --corpus} argument: file, folder or glob, several separated by ':' (see {@link CorpusFiles})
 * @param format {@code --format} (AUTO: JSONL by file suffix, else lines; {@code --whole-files} is WHOLE_FILES)
 * @param textField {@code --text-field}: the top-level JSON key holding the text (JSONL only; default "text")
 * @param skipBad {@code --skip-bad}: skip and count bad documents instead of failing on the first
 * @param contextLength {@code --context-length}: tokens per context including BOS, >= 2 (default 128)
 * @param maxTokens {@code --max-tokens}: stop before the context that would take the total (BOS included) over this;
 *                  0 = the whole corpus
 */
public record CorpusSpec(String inputs, CorpusFormat format, String textField, boolean skipBad, int contextLength,
                         long maxTokens) {
    public static final String DEFAULT_TEXT_FIELD = "text";
    public static final int DEFAULT_CONTEXT_LENGTH = 128;

    public CorpusSpec {
        if (inputs == null || inputs.isBlank()) throw new IllegalArgumentException("--corpus is empty");
        CorpusFiles.checkSyntax(inputs);
        if (format == null) throw new IllegalArgumentException("--format is missing");
        if (textField == null || textField.isEmpty()) {
            throw new IllegalArgumentException("--text-field must be a non-empty JSON key, got '" + textField + "'");
        }
        if (contextLength < 2) {
            throw new IllegalArgumentException("--context-length must be at least 2 (BOS + one token), got " + contextLength);
        }
        if (maxTokens < 0) throw new IllegalArgumentException("--max-tokens must be >= 0 (0 = no cap), got " + maxTokens);
    }

    /** The defaults: AUTO format, "text" field, failing on bad input, 128-token contexts, no cap. */
    public static CorpusSpec of(String inputs) {
        return new CorpusSpec(inputs, CorpusFormat.AUTO, DEFAULT_TEXT_FIELD, false, DEFAULT_CONTEXT_LENGTH, 0);
    }

    /** The files to read, in order, resolved against the working directory (see {@link CorpusFiles}). */
    public List<Path> resolve() throws IOException {
        return CorpusFiles.resolve(inputs);
    }

    /** The files to read, in order, with relative entries resolved against {@code workingDir}. */
    public List<Path> resolve(Path workingDir) throws IOException {
        return CorpusFiles.resolve(inputs, workingDir);
    }

    /** {@link #describe(List, Path)} without a hash cache (every file is hashed). */
    public Map<String, Object> describe(List<Path> files) throws IOException {
        return describe(files, null);
    }

    /**
     * A stable description for a run's metadata, snake_case keys in a fixed order: inputs (as given), format,
     * text_field, skip_bad, context_length, max_tokens, and files: for each file in reading order its absolute
     * path, size in bytes and SHA-256 (of the bytes on disk, compressed or not). With {@code hashCache} non-null,
     * digests are remembered there by (path, size, modification time), as for model files.
     */
    public Map<String, Object> describe(List<Path> files, Path hashCache) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("inputs", inputs);
        m.put("format", format.cliName());
        m.put("text_field", textField);
        m.put("skip_bad", skipBad);
        m.put("context_length", contextLength);
        m.put("max_tokens", maxTokens);
        List<Map<String, Object>> list = new ArrayList<>(files.size());
        for (Path f : files) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("path", f.toAbsolutePath().normalize().toString());
            e.put("size", Files.size(f));
            e.put("sha256", FileHashes.sha256(f, hashCache));
            list.add(Collections.unmodifiableMap(e));
        }
        m.put("files", Collections.unmodifiableList(list));
        return Collections.unmodifiableMap(m);
    }
}
