package dev.jlens.kernels;

/** Element encoding of a weight matrix the kernels can read directly from a mapped segment (little-endian). */
public enum WeightFormat {
    F32(4),
    /** bfloat16: the upper 16 bits of an f32, widened by a 16-bit left shift. */
    BF16(2);

    public final int bytes;

    WeightFormat(int bytes) { this.bytes = bytes; }

    /** Rounds an f32 to bf16 with round-to-nearest-even (NaN stays NaN). */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    public static float fromBf16(short s) {
        return Float.intBitsToFloat((s & 0xFFFF) << 16);
    }
}
