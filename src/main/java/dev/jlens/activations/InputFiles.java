package dev.jlens.activations;

import dev.jlens.formats.FormatException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Checks on the files a capture or an encode reads, made before anything opens them (a FIFO would block a reader). */
public final class InputFiles {
    private InputFiles() {}

    /**
     * Requires {@code file} to be a regular file: a folder or a FIFO, socket or device is bad input naming the path and
     * what it is ({@link FormatException}, field {@code role}: e.g. "activations", "prompts"); a missing one is a
     * {@link NoSuchFileException}.
     */
    public static void requireRegularFile(Path file, String role) throws IOException {
        if (Files.isRegularFile(file)) return;
        if (Files.isDirectory(file)) throw new FormatException(file, role, "is a folder, not a file");
        if (Files.exists(file)) throw new FormatException(file, role, "is not a regular file (a FIFO, socket or device)");
        throw new NoSuchFileException(file.toString());
    }
}
