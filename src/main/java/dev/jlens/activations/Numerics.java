package dev.jlens.activations;

import dev.jlens.formats.FormatException;
import dev.jlens.formats.GgufFile;
import dev.jlens.llama.Context;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The numerics activations were computed with, as capture.json and results.json record them (null in files written
 * before they were recorded).
 *
 * @param kvCacheType    {@code f32} (the default) or {@code f16} ({@code --fast-kv}): llama.cpp's K/V cache type
 * @param flashAttention whether llama.cpp's flash attention ran (f16 internally on CPU); off by default
 * @param weightType     the storage types of the model file's matrices, most bytes first, joined with {@code +}
 *                       (e.g. {@code F32}, {@code Q8_0}, {@code Q4_K+Q6_K}); with quantized weights ggml also
 *                       quantizes each matmul's input, so this bounds the capture's precision as much as the cache
 */
public record Numerics(String kvCacheType, boolean flashAttention, String weightType) {
    public Numerics {
        Objects.requireNonNull(kvCacheType, "kvCacheType");
        Objects.requireNonNull(weightType, "weightType");
    }

    /** The numerics of a capture with these context parameters from this model file (read in Java, not by llama.cpp). */
    public static Numerics of(Context.Params params, Path modelFile) throws IOException {
        return new Numerics(params.f32KvCache() ? "f32" : "f16", params.flashAttn(), weightTypes(modelFile));
    }

    /** The GGML types of the file's tensors of rank &ge; 2 (the matrices), by total bytes, largest first. */
    public static String weightTypes(Path modelFile) throws IOException {
        Map<String, Long> bytes = new HashMap<>();
        try (GgufFile f = GgufFile.open(modelFile)) {
            for (GgufFile.TensorInfo t : f.tensors()) {
                if (t.ne().length >= 2) bytes.merge(t.type().name(), t.nbytes(), Long::sum);
            }
        }
        if (bytes.isEmpty()) throw new FormatException(modelFile, "tensors", "no matrix in the file");
        return bytes.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey).collect(Collectors.joining("+"));
    }
}
