package dev.jlens.formats;

import dev.jlens.errors.InvalidFileException;

import java.nio.file.Path;

/**
 * A file is not what it claims to be. Names the file, the field (header key, member, tensor name,
 * byte offset...) and the offending value, so the user can find the problem without a debugger.
 * The readers' own type; callers of the API catch it as the exported {@link InvalidFileException}
 * (which has the file and field accessors).
 */
public class FormatException extends InvalidFileException {
    public FormatException(Path file, String field, String problem) {
        super(file, field, problem);
    }

    public FormatException(Path file, String field, String problem, Throwable cause) {
        super(file, field, problem, cause);
    }
}
