package dev.jlens.formats;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Element types the SAE file readers accept. All are little-endian on disk. */
public enum DType {
    F32(4), F16(2), BF16(2);

    // unaligned: members of an npz sit at arbitrary byte offsets inside the zip
    static final ValueLayout.OfFloat LE_F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort LE_I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int size;

    DType(int size) {
        this.size = size;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** Element {@code index} (not byte offset) of {@code seg}, widened to float. */
    public float get(MemorySegment seg, long index) {
        return switch (this) {
            case F32 -> seg.getAtIndex(LE_F32, index);
            case F16 -> Float.float16ToFloat(seg.getAtIndex(LE_I16, index));
            case BF16 -> Float.intBitsToFloat((seg.getAtIndex(LE_I16, index) & 0xFFFF) << 16);
        };
    }

    /**
     * The dtype for a numpy {@code descr} string. Only little-endian float32/float16 are supported;
     * the exception message says why anything else is refused.
     */
    public static DType fromNumpy(String descr) {
        switch (descr) {
            case "<f4": return F32;
            case "<f2": return F16;
            default:
        }
        if (descr.equals(">f4") || descr.equals(">f2")) {
            throw new IllegalArgumentException("big-endian dtype '" + descr
                    + "' is not supported; re-save with arr.astype('<f4')");
        }
        throw new IllegalArgumentException("dtype '" + descr
                + "' is not supported (pickled/object, string or non-float data); only f32 ('<f4') and f16 ('<f2') are supported");
    }

    /** The dtype for a safetensors dtype name (F32, F16, BF16). */
    public static DType fromSafetensors(String name) {
        return switch (name) {
            case "F32" -> F32;
            case "F16" -> F16;
            case "BF16" -> BF16;
            default -> throw new IllegalArgumentException("dtype '" + name
                    + "' is not supported; only F32, F16 and BF16 are supported");
        };
    }

    /** The numpy descr written for this dtype; numpy has no bfloat16. */
    public String numpyDescr() {
        return switch (this) {
            case F32 -> "<f4";
            case F16 -> "<f2";
            case BF16 -> throw new IllegalArgumentException("numpy has no bfloat16; convert BF16 to F32 before writing .npy");
        };
    }
}
