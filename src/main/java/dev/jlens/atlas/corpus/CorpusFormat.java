package dev.jlens.atlas.corpus;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/** How the corpus files are split into documents. */
public enum CorpusFormat {
    /** Per file: {@link #JSONL} for names ending in .jsonl, .jsonl.gz, .ndjson or .ndjson.gz, else {@link #LINES}. */
    AUTO("auto"),
    /** One document per line ({@code \n} or {@code \r\n}). */
    LINES("lines"),
    /** One document per file, the whole file verbatim (after a leading byte-order mark). */
    WHOLE_FILES("whole-files"),
    /** One JSON object per line; the document is its text field. */
    JSONL("jsonl");

    private final String cliName;

    CorpusFormat(String cliName) {
        this.cliName = cliName;
    }

    /** The option value: auto, lines, whole-files, jsonl. */
    public String cliName() {
        return cliName;
    }

    /** The format of an option value (case-insensitive); names the option and the known values otherwise. */
    public static CorpusFormat parse(String value) {
        for (CorpusFormat f : values()) {
            if (f.cliName.equalsIgnoreCase(value == null ? "" : value.strip())) return f;
        }
        throw new IllegalArgumentException("--format: unknown value '" + value + "'; known: "
                + Arrays.stream(values()).map(CorpusFormat::cliName).toList());
    }

    /** The format used for {@code file}: this one, or for {@link #AUTO} the one its name suggests. */
    public CorpusFormat forFile(Path file) {
        if (this != AUTO) return this;
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean jsonl = name.endsWith(".jsonl") || name.endsWith(".jsonl.gz")
                || name.endsWith(".ndjson") || name.endsWith(".ndjson.gz");
        return jsonl ? JSONL : LINES;
    }
}
