package dev.jlens.errors;

import java.nio.file.Path;

/**
 * A model file (GGUF) failed jlens' validation before llama.cpp saw it: a missing or out-of-range header key, a tensor
 * of the wrong shape or type, data past the end of the file. The message names the file, the field and the value.
 * Bad input; an {@link IllegalArgumentException} because the model is an argument of the call that loads it.
 */
public class InvalidModelFileException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;
    /** The header key, tensor name or byte offset at fault. */
    private final String field;

    /**
     * A model file problem.
     *
     * @param message the full message (names the file, the field and the value)
     * @param file    the model file
     * @param field   the header key, tensor name or byte offset at fault
     * @param cause   the exception that revealed it (the file reader's {@link InvalidFileException}), or null
     */
    public InvalidModelFileException(String message, Path file, String field, Throwable cause) {
        super(message, cause);
        this.file = file;
        this.field = field;
    }

    /**
     * The model file.
     *
     * @return the file as the caller named it
     */
    public Path file() { return file; }

    /**
     * Where in the file the problem is.
     *
     * @return the header key, tensor name or byte offset
     */
    public String field() { return field; }
}
