package dev.jlens.errors;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file is not what it claims to be: a malformed GGUF, NPY, NPZ or safetensors file, SAE config, prompt file,
 * capture folder or corpus. The message is {@code file: field: problem}, where the field is a header key, member,
 * tensor name, byte offset or line and the problem names the offending value, so the user can find it without a
 * debugger. Bad input (the caller's file), not a failed run.
 */
public class InvalidFileException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;
    /** Where in the file the problem is. */
    private final String field;
    /** What is wrong, naming the offending value. */
    private final String problem;

    /**
     * A file problem.
     *
     * @param file    the file (or folder) at fault
     * @param field   where in it: a header key, member, tensor name, byte offset, line...
     * @param problem what is wrong, naming the offending value
     */
    public InvalidFileException(Path file, String field, String problem) {
        this(file, field, problem, null);
    }

    /**
     * A file problem with the exception that revealed it.
     *
     * @param file    the file (or folder) at fault
     * @param field   where in it: a header key, member, tensor name, byte offset, line...
     * @param problem what is wrong, naming the offending value
     * @param cause   the exception that revealed it, or null
     */
    public InvalidFileException(Path file, String field, String problem, Throwable cause) {
        super(file + ": " + field + ": " + problem, cause);
        this.file = file;
        this.field = field;
        this.problem = problem;
    }

    /**
     * The file at fault.
     *
     * @return the file as the caller named it (may be relative)
     */
    public Path file() { return file; }

    /**
     * Where in the file the problem is.
     *
     * @return the header key, member, tensor name, byte offset or line
     */
    public String field() { return field; }

    /**
     * What is wrong, without the file and field.
     *
     * @return the problem, naming the offending value
     */
    public String problem() { return problem; }
}
