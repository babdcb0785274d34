package dev.jlens.formats;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Scalar dequantisation of ggml block formats, transcribed from ggml-quants.c dequantize_row_*. */
final class Quants {
    private static final ValueLayout.OfShort F16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Quants() {}

    /** block_q8_0: fp16 d, int8 qs[32]; y = qs[j] * d. */
    static void dequantizeQ8_0(MemorySegment src, float[] out) {
        int nb = out.length / 32;
        for (int i = 0; i < nb; i++) {
            long b = (long) i * 34;
            float d = Float.float16ToFloat(src.get(F16, b));
            for (int j = 0; j < 32; j++) out[i * 32 + j] = src.get(ValueLayout.JAVA_BYTE, b + 2 + j) * d;
        }
    }

    /** block_q4_0: fp16 d, uint8 qs[16]; low nibbles are elements 0..15, high nibbles 16..31, both offset by 8. */
    static void dequantizeQ4_0(MemorySegment src, float[] out) {
        int nb = out.length / 32;
        for (int i = 0; i < nb; i++) {
            long b = (long) i * 18;
            float d = Float.float16ToFloat(src.get(F16, b));
            for (int j = 0; j < 16; j++) {
                int q = src.get(ValueLayout.JAVA_BYTE, b + 2 + j) & 0xFF;
                out[i * 32 + j] = ((q & 0x0F) - 8) * d;
                out[i * 32 + j + 16] = ((q >> 4) - 8) * d;
            }
        }
    }
}
