package dev.jlens.api;

import dev.jlens.formats.GgufSlice;
import dev.jlens.util.RunFolder;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Capture-only slices of a model: the tokenizer, token embeddings, final norm and blocks 0..L+1 of a GGUF, with the
 * block count rewritten. Capturing layer L (or any layer below) from a slice gives the same bits as from the full
 * model, with less disk, RAM and VRAM. Steering and generation refuse a slice. Methods may run on any thread; a second
 * call writing the same path while one runs (in this or another process) throws IllegalArgumentException naming it.
 */
public final class Slices {
    private Slices() {}

    /**
     * A slice written by {@link #write}.
     *
     * @param path         the slice GGUF
     * @param throughLayer the highest layer it captures (L)
     * @param sourceLayers blocks of the source model
     * @param layers       blocks of the slice (L+2: block L+1 keeps layer L's output whole)
     * @param tensors      tensors copied
     * @param sourceBytes  source file size
     * @param bytes        slice file size
     * @param sourceSha256 hex SHA-256 of the source, also recorded in the slice's metadata
     */
    public record Slice(Path path, int throughLayer, int sourceLayers, int layers, int tensors, long sourceBytes, long bytes,
                        String sourceSha256) {
        /**
         * The slice's size as a fraction of the source's.
         *
         * @return a ratio in (0, 1]
         */
        public double sizeRatio() { return (double) bytes / sourceBytes; }
    }

    /**
     * Writes the slice of {@code model} through layer {@code throughLayer} to {@code out} (atomically; tensor bytes
     * copied verbatim, any quantization). IllegalArgumentException when the layer is not in 0..layers-2 or
     * {@code out} is the model; an {@link dev.jlens.errors.InvalidFileException} (bad input) when the model is not a
     * valid GGUF.
     *
     * @param model        the source GGUF
     * @param throughLayer the last layer kept, 0..layers-2
     * @param out          the slice file to write
     * @return what was written
     * @throws IOException when a file cannot be read or written, or the model is malformed
     */
    public static Slice write(Path model, int throughLayer, Path out) throws IOException {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(out, "out");
        GgufSlice.Result r;
        // a second run writing the same file is refused (exit 2 naming it); a killed run's temporaries are removed
        try (RunFolder.OutputFile lock = RunFolder.OutputFile.lock(out)) {
            r = GgufSlice.write(model, throughLayer, out);
        }
        return new Slice(r.out(), r.throughLayer(), r.sourceBlocks(), r.blocks(), r.tensors(), r.sourceBytes(), r.bytes(), r.sourceSha256());
    }

    /**
     * The layer a slice was cut after. Reads only the GGUF header.
     *
     * @param model a GGUF
     * @return the layer, or empty for a full model
     * @throws IOException when it cannot be read or is malformed
     */
    public static OptionalInt throughLayer(Path model) throws IOException {
        return GgufSlice.throughLayer(Objects.requireNonNull(model, "model"));
    }
}
