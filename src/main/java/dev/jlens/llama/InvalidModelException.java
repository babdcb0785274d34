package dev.jlens.llama;

import dev.jlens.errors.InvalidModelFileException;
import dev.jlens.formats.FormatException;

/**
 * The model file failed validation before it reached llama.cpp; names the file and the problem. Callers of the API
 * catch it as the exported {@link InvalidModelFileException}.
 */
public final class InvalidModelException extends InvalidModelFileException {
    InvalidModelException(FormatException detail) {
        super(detail.getMessage(), detail.file(), detail.field(), detail);
    }
}
