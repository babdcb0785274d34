package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;
import dev.jlens.formats.GgmlType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** ggml's own quantisation (ggml_quantize_chunk), for writing Q8_0 / Q4_0 GGUF files bit-identical to llama.cpp's. */
public final class Quantizer {
    private Quantizer() {}

    /**
     * Quantises {@code rows} rows of {@code perRow} floats (row-major) into ggml blocks of {@code type}.
     * Only types that need no importance matrix are accepted (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, F16, BF16).
     */
    public static byte[] quantize(GgmlType type, float[] data, int rows, int perRow) {
        if (type != GgmlType.Q8_0 && type != GgmlType.Q4_0 && type != GgmlType.Q4_1 && type != GgmlType.Q5_0
                && type != GgmlType.Q5_1 && type != GgmlType.F16 && type != GgmlType.BF16) {
            throw new IllegalArgumentException("quantisation to " + type + " is not supported here");
        }
        if (rows < 1 || perRow < 1) throw new IllegalArgumentException("rows and perRow must be >= 1");
        if ((long) rows * perRow != data.length) throw new IllegalArgumentException(data.length + " floats is not " + rows + " x " + perRow);
        if (perRow % type.blockSize != 0) throw new IllegalArgumentException("row of " + perRow + " is not a multiple of " + type + "'s block of " + type.blockSize);
        NativeLibrary.load();
        long outBytes = (long) rows * type.rowBytes(perRow);
        if (outBytes > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("chunk too large: " + outBytes + " bytes");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocate(JAVA_FLOAT, data.length);
            MemorySegment.copy(data, 0, src, JAVA_FLOAT, 0, data.length);
            MemorySegment dst = a.allocate(outBytes, 64);
            LlamaH.ggml_quantize_init(type.id);
            long n = LlamaH.ggml_quantize_chunk(type.id, src, dst, 0, rows, perRow, MemorySegment.NULL);
            if (n != outBytes) throw new LlamaException("ggml_quantize_chunk", 0, "wrote " + n + " bytes, expected " + outBytes);
            return dst.toArray(JAVA_BYTE);
        }
    }
}
