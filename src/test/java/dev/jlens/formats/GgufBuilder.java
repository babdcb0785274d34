package dev.jlens.formats;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Test-only GGUF byte builder with knobs for every corruption the reader must catch. */
final class GgufBuilder {
    static final int UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
            STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12;

    static final class T {
        String name;
        int type;
        long[] ne;
        byte[] data;
        Integer nDims;
        Long offset;

        T(String name, int type, long[] ne, byte[] data) {
            this.name = name;
            this.type = type;
            this.ne = ne;
            this.data = data;
        }
    }

    int magic = GgufFile.MAGIC;
    int version = 3;
    Long nTensors;
    Long nKv;
    long alignment = 32;
    final List<byte[]> kvs = new ArrayList<>();
    final List<T> tensors = new ArrayList<>();

    static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    static byte[] str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return le(8 + b.length).putLong(b.length).put(b).array();
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    GgufBuilder kv(String key, int type, byte[] value) {
        kvs.add(cat(str(key), le(4).putInt(type).array(), value));
        return this;
    }

    GgufBuilder u32(String key, long v) { return kv(key, UINT32, le(4).putInt((int) v).array()); }
    GgufBuilder i32(String key, int v) { return kv(key, INT32, le(4).putInt(v).array()); }
    GgufBuilder f32(String key, float v) { return kv(key, FLOAT32, le(4).putFloat(v).array()); }
    GgufBuilder string(String key, String v) { return kv(key, STRING, str(v)); }

    GgufBuilder strings(String key, String... v) {
        byte[][] parts = new byte[v.length + 1][];
        parts[0] = le(12).putInt(STRING).putLong(v.length).array();
        for (int i = 0; i < v.length; i++) parts[i + 1] = str(v[i]);
        return kv(key, ARRAY, cat(parts));
    }

    T tensor(String name, GgmlType type, byte[] data, long... ne) {
        T t = new T(name, type.id, ne, data);
        tensors.add(t);
        return t;
    }

    /** F32 tensor of zeros with the given ne. */
    T zeros(String name, long... ne) {
        long n = 1;
        for (long d : ne) n *= d;
        return tensor(name, GgmlType.F32, new byte[(int) (n * 4)], ne);
    }

    byte[] build() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(le(24).putInt(magic).putInt(version)
                .putLong(nTensors != null ? nTensors : tensors.size()).putLong(nKv != null ? nKv : kvs.size()).array());
        kvs.forEach(out::writeBytes);
        long off = 0;
        for (T t : tensors) {
            int nd = t.nDims != null ? t.nDims : t.ne.length;
            ByteBuffer b = le(4 + 8 * t.ne.length + 4 + 8);
            b.putInt(nd);
            for (long d : t.ne) b.putLong(d);
            b.putInt(t.type).putLong(t.offset != null ? t.offset : off);
            out.writeBytes(str(t.name));
            out.writeBytes(b.array());
            off = align(off + t.data.length);
        }
        if (!tensors.isEmpty()) pad(out);
        for (int i = 0; i < tensors.size(); i++) {
            out.writeBytes(tensors.get(i).data);
            if (i < tensors.size() - 1) pad(out);
        }
        return out.toByteArray();
    }

    private long align(long x) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private void pad(ByteArrayOutputStream out) {
        while (out.size() % alignment != 0) out.write(0);
    }
}
