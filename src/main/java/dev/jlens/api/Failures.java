package dev.jlens.api;

import dev.jlens.formats.FormatException;

import java.nio.file.NoSuchFileException;

/**
 * Which failures of this API are the caller's input rather than a failed run, for tools that report them
 * differently (the jlens command line exits with 2 for bad input and 1 for anything else).
 *
 * <p>Bad input is: an {@link IllegalArgumentException} (a parameter out of range, an unknown name, a model file that
 * fails validation before llama.cpp sees it, a prompt longer than the context...); a {@link NoSuchFileException};
 * or an {@link java.io.IOException} thrown because a file is not what it claims to be (a malformed GGUF, NPY, NPZ,
 * safetensors, SAE config, prompt file or capture folder; its message names the file, the field and the value).
 * Everything else (other I/O errors, native failures, {@link IllegalStateException}) is a failed run.
 */
public final class Failures {
    private Failures() {}

    /** Whether {@code e} (not its causes) means bad input as defined above; false for null. */
    public static boolean isBadInput(Throwable e) {
        return e instanceof FormatException || e instanceof IllegalArgumentException || e instanceof NoSuchFileException;
    }
}
