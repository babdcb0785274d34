package dev.jlens.formats;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file is not what it claims to be. Names the file, the field (header key, member, tensor name,
 * byte offset...) and the offending value, so the user can find the problem without a debugger.
 */
public class FormatException extends IOException {
    private final Path file;
    private final String field;

    public FormatException(Path file, String field, String problem) {
        super(file + ": " + field + ": " + problem);
        this.file = file;
        this.field = field;
    }

    public FormatException(Path file, String field, String problem, Throwable cause) {
        super(file + ": " + field + ": " + problem, cause);
        this.file = file;
        this.field = field;
    }

    public Path file() { return file; }

    public String field() { return field; }
}
