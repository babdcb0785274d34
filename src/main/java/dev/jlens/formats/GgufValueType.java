package dev.jlens.formats;

/** GGUF metadata value types as numbered in gguf.h (enum gguf_type). */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    STRING(8, 8), ARRAY(9, 12), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    public final int id;
    /** Fewest bytes a value of this type occupies (a string's length prefix, an array's type + count). */
    final int minSize;

    GgufValueType(int id, int minSize) {
        this.id = id;
        this.minSize = minSize;
    }

    static GgufValueType byId(int id) {
        for (GgufValueType t : values()) if (t.id == id) return t;
        return null;
    }
}
