package dev.jlens.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A row-major [rows x cols] matrix viewed in place (usually a memory-mapped file region). Never copied:
 * the kernels read it straight from {@link #data()}.
 */
public record Weights(MemorySegment data, WeightFormat format, int rows, int cols) {
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Weights {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(format, "format");
        if (rows <= 0 || cols <= 0) throw new IllegalArgumentException("weights shape must be positive: [" + rows + ", " + cols + "]");
        long need = (long) rows * cols * format.bytes;
        if (data.byteSize() != need)
            throw new IllegalArgumentException("weights [" + rows + ", " + cols + "] " + format + " need " + need + " bytes, segment has " + data.byteSize());
    }

    /** Element (r, c) widened to f32. */
    public float get(long r, long c) {
        long i = r * cols + c;
        return format == WeightFormat.F32 ? data.get(F32, i * 4) : WeightFormat.fromBf16(data.get(I16, i * 2));
    }

    /** Row r widened to f32 into a new array. */
    public float[] row(int r) {
        float[] out = new float[cols];
        for (int c = 0; c < cols; c++) out[c] = get(r, c);
        return out;
    }

    /** Reads f32 element i of a little-endian f32 segment (biases, thresholds). */
    public static float f32(MemorySegment seg, long i) { return seg.get(F32, i * 4); }
}
