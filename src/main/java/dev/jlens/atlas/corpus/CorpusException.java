package dev.jlens.atlas.corpus;

import dev.jlens.formats.FormatException;

import java.nio.file.Path;

/**
 * A corpus input that cannot be read as documents. The message names the file, the 1-based line and what is
 * wrong ({@code /data/a.jsonl: line 3: field 'text' is a number, not a string}); {@link #reason()} says which
 * {@link SkipReason} it is, or is null for a problem with the {@code --corpus} argument itself (a glob or folder
 * matching nothing, a file listed twice). A {@link FormatException}, so the command line reports it as bad input.
 */
public final class CorpusException extends FormatException {
    private final long line;
    private final SkipReason reason;

    /** A bad document or file; {@code line} is 1-based. */
    public CorpusException(Path file, long line, SkipReason reason, String problem) {
        this(file, line, reason, problem, null);
    }

    public CorpusException(Path file, long line, SkipReason reason, String problem, Throwable cause) {
        super(file, "line " + line, problem, cause);
        if (line < 1) throw new IllegalArgumentException("line must be 1-based, got " + line);
        this.line = line;
        this.reason = reason;
    }

    /** A problem with the corpus argument, not with a line: {@code field} is e.g. {@code --corpus}. */
    public CorpusException(Path input, String field, String problem) {
        super(input, field, problem);
        this.line = 0;
        this.reason = null;
    }

    /** The 1-based line, or 0 when the problem is not in a line. */
    public long line() {
        return line;
    }

    /** Why the document or file was rejected; null for a problem with the corpus argument. */
    public SkipReason reason() {
        return reason;
    }
}
