package dev.jlens.api;

import dev.jlens.errors.InvalidFileException;
import dev.jlens.errors.InvalidModelFileException;
import dev.jlens.errors.NativeException;

import java.nio.file.NoSuchFileException;

/**
 * Which failures of this API are the caller's input rather than a failed run, for tools that report them
 * differently (the jlens command line exits with 2 for bad input and 1 for anything else).
 *
 * <p>Bad input is: an {@link IllegalArgumentException} (a parameter out of range, an unknown name, a model file that
 * fails validation before llama.cpp sees it, a prompt longer than the context...); a {@link NoSuchFileException};
 * or an {@link InvalidFileException}: a file is not what it claims to be (a malformed GGUF, NPY, NPZ, safetensors,
 * SAE config, prompt file or capture folder; its message names the file, the field and the value). A model file that
 * fails validation is an {@link InvalidModelFileException} (an {@link IllegalArgumentException}). Everything else
 * (other I/O errors, native failures ({@link NativeException}), {@link IllegalStateException}) is a failed run. The
 * exception types are in the exported package {@code dev.jlens.errors}, so callers can catch them by type.
 */
public final class Failures {
    private Failures() {}

    /**
     * Whether {@code e} (not its causes) means bad input as defined above.
     *
     * @param e a failure from this API, or null
     * @return true for bad input, false for a failed run or null
     */
    public static boolean isBadInput(Throwable e) {
        return e instanceof InvalidFileException || e instanceof IllegalArgumentException || e instanceof NoSuchFileException;
    }
}
