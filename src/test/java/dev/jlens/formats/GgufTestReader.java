package dev.jlens.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A minimal, independent GGUF v3 parser for tests, written from ggml/src/gguf.cpp's read path. */
public final class GgufTestReader {
    public record TensorInfo(String name, long[] ne, int type, long offset) {}

    public final int version;
    public final Map<String, Object> kv = new LinkedHashMap<>();
    public final Map<String, Integer> kvType = new LinkedHashMap<>();
    public final Map<String, Integer> arrayElementType = new LinkedHashMap<>();
    public final List<TensorInfo> tensors = new ArrayList<>();
    public final long dataStart;
    public final int alignment;
    private final ByteBuffer b;

    public GgufTestReader(Path file) throws IOException {
        b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[4];
        b.get(magic);
        if (!new String(magic, StandardCharsets.US_ASCII).equals("GGUF")) throw new IOException("bad magic");
        version = b.getInt();
        long nt = b.getLong(), nkv = b.getLong();
        for (long i = 0; i < nkv; i++) {
            String key = str();
            int t = b.getInt();
            kvType.put(key, t);
            if (t == 9) arrayElementType.put(key, b.getInt(b.position()));
            kv.put(key, t == 9 ? array() : scalar(t));
        }
        for (long i = 0; i < nt; i++) {
            String name = str();
            int nd = b.getInt();
            long[] ne = new long[nd];
            for (int d = 0; d < nd; d++) ne[d] = b.getLong();
            tensors.add(new TensorInfo(name, ne, b.getInt(), b.getLong()));
        }
        alignment = kv.containsKey("general.alignment") ? (Integer) kv.get("general.alignment") : 32;
        dataStart = (b.position() + alignment - 1) / alignment * alignment;
        for (long p = b.position(); p < dataStart; p++) if (b.get((int) p) != 0) throw new IOException("non-zero padding at " + p);
    }

    public int size() { return b.capacity(); }

    public TensorInfo tensor(String name) {
        return tensors.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no tensor " + name));
    }

    /** The raw bytes of a tensor, length as given. */
    public byte[] data(String name, int length) {
        byte[] out = new byte[length];
        b.get((int) (dataStart + tensor(name).offset()), out);
        return out;
    }

    public float[] f32(String name, int n) {
        ByteBuffer d = ByteBuffer.wrap(data(name, n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = d.getFloat();
        return f;
    }

    public byte byteAt(long pos) { return b.get((int) pos); }

    private String str() {
        byte[] s = new byte[(int) b.getLong()];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private Object scalar(int t) {
        return switch (t) {
            case 0, 1 -> b.get();
            case 2, 3 -> b.getShort();
            case 4, 5 -> b.getInt();
            case 6 -> b.getFloat();
            case 7 -> b.get() != 0;
            case 8 -> str();
            case 10, 11 -> b.getLong();
            case 12 -> b.getDouble();
            default -> throw new IllegalStateException("type " + t);
        };
    }

    private List<Object> array() {
        int et = b.getInt();
        long n = b.getLong();
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) out.add(scalar(et));
        return out;
    }
}
