package dev.jlens.api;

import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The header of a gemma2 GGUF file, read and validated in pure Java (no native code runs, nothing stays open): the
 * same checks {@link LensModel#load} applies before llama.cpp sees a file. Immutable; safe to share.
 *
 * @param file          the file read
 * @param ggufVersion   GGUF format version
 * @param tensorCount   tensors in the file
 * @param metadataKeys  metadata key/value pairs in the file
 * @param alignment     tensor data alignment in bytes
 * @param layers        transformer blocks (26 for Gemma 2 2B)
 * @param dModel        residual stream width (2304 for Gemma 2 2B)
 * @param heads         attention heads
 * @param kvHeads       key/value heads
 * @param headDim       per-head dimension of keys and queries
 * @param ffn           feed-forward width
 * @param vocab         vocabulary size
 * @param tokenizer     tokenizer model name (e.g. {@code llama})
 * @param contextLength training context in tokens
 * @param slidingWindow sliding-window attention width in tokens
 * @param attnSoftcap   attention logit soft-cap
 * @param finalSoftcap  final logit soft-cap
 * @param rmsEps        RMS norm epsilon
 * @param tensorTypes   ggml type name (e.g. {@code F32}, {@code Q8_0}) to how many tensors have it, in ggml's type order;
 *                      unmodifiable
 */
public record ModelInfo(Path file, int ggufVersion, int tensorCount, int metadataKeys, long alignment, int layers, int dModel,
                        int heads, int kvHeads, int headDim, int ffn, int vocab, String tokenizer, int contextLength,
                        int slidingWindow, float attnSoftcap, float finalSoftcap, float rmsEps, Map<String, Integer> tensorTypes) {
    /** Copies {@code tensorTypes}, keeping its order. */
    public ModelInfo {
        tensorTypes = Collections.unmodifiableMap(new LinkedHashMap<>(tensorTypes));
    }

    /**
     * Reads and validates {@code gguf}. Throws an IOException naming the file, field and value when it is not a
     * well-formed gemma2 GGUF ({@link Failures#isBadInput} is true for it), a NoSuchFileException when it is missing.
     *
     * @param gguf the model file
     * @return its header facts
     * @throws IOException when it cannot be read; a {@link dev.jlens.errors.InvalidFileException} when it is malformed
     */
    public static ModelInfo read(Path gguf) throws IOException {
        try (GgufFile f = GgufFile.open(gguf)) {
            var h = f.requireGemma2();
            Map<GgmlType, Integer> byType = new TreeMap<>();
            for (var t : f.tensors()) byType.merge(t.type(), 1, Integer::sum);
            Map<String, Integer> types = new LinkedHashMap<>();
            byType.forEach((type, n) -> types.put(type.toString(), n));
            return new ModelInfo(gguf, f.version(), f.tensors().size(), f.metadata().size(), f.alignment(), h.nLayer(), h.nEmbd(),
                    h.nHead(), h.nHeadKv(), h.headDim(), h.nFf(), h.nVocab(), h.tokenizerModel(), h.contextLength(), h.slidingWindow(),
                    h.attnSoftcap(), h.finalSoftcap(), h.rmsEps(), types);
        }
    }
}
