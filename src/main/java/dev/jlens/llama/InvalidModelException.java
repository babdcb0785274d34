package dev.jlens.llama;

import dev.jlens.formats.FormatException;

import java.nio.file.Path;

/** The model file failed validation before it reached llama.cpp; names the file and the problem. */
public final class InvalidModelException extends IllegalArgumentException {
    private final transient FormatException detail;

    InvalidModelException(FormatException detail) {
        super(detail.getMessage(), detail);
        this.detail = detail;
    }

    public Path file() { return detail.file(); }

    public String field() { return detail.field(); }
}
