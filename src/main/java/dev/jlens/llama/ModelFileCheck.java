package dev.jlens.llama;

import dev.jlens.formats.FormatException;
import dev.jlens.formats.GgufFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** Validates a GGUF in pure Java before llama.cpp sees it: llama.cpp aborts the process on some corrupt files. */
final class ModelFileCheck {
    private ModelFileCheck() {}

    static void check(Path gguf) {
        try (GgufFile f = GgufFile.open(gguf)) {
            f.requireGemma2();
        } catch (FormatException e) {
            throw new InvalidModelException(e);
        } catch (IOException e) {
            throw new UncheckedIOException(gguf + ": cannot read model file", e);
        }
    }
}
