package dev.jlens.formats;

import dev.jlens.toy.ToyModelJob;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A valid GGUF read back with {@link GgufFile} and written again with {@link GgufWriter}, with changes: keys set,
 * retyped or removed, tensors retyped, removed or added. The bad-model tables of the reliability tests start from
 * the tiny toy gemma2 and change one thing each; every other byte of the result is a file llama.cpp loads.
 */
public final class GgufMutator {
    private record Kv(GgufWriter.ValueType type, GgufWriter.ValueType elementType, Object value) {}

    private record T(long[] ne, GgmlType type, byte[] data) {}

    private final Map<String, Kv> kvs = new LinkedHashMap<>();
    private final Map<String, T> tensors = new LinkedHashMap<>();

    private GgufMutator() {}

    /** The `toy-model --kind tiny` gemma2 (14 layers, d=64, head dim 16, F32), written to {@code file}. */
    public static Path writeTiny(Path file) throws IOException {
        ToyModelJob.write(file, ToyModelJob.Kind.TINY, GgmlType.F32, 7);
        return file;
    }

    /** Everything in {@code file}, ready to be changed. */
    public static GgufMutator read(Path file) throws IOException {
        GgufMutator m = new GgufMutator();
        try (GgufFile g = GgufFile.open(file)) {
            for (var e : g.metadata().entrySet()) {
                String key = e.getKey();
                if (key.equals(GgufWriter.ALIGNMENT_KEY)) continue;
                GgufValueType t = g.type(key).orElseThrow();
                if (t == GgufValueType.ARRAY) {
                    GgufValueType et = g.arrayType(key).orElseThrow();
                    m.kvs.put(key, new Kv(GgufWriter.ValueType.ARRAY, writerType(et), javaArray(et, (List<?>) e.getValue())));
                } else {
                    m.kvs.put(key, new Kv(writerType(t), null, scalar(t, e.getValue())));
                }
            }
            for (GgufFile.TensorInfo ti : g.tensors()) {
                m.tensors.put(ti.name(), new T(ti.ne(), ti.type(), g.data(ti).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)));
            }
        }
        return m;
    }

    public GgufMutator u32(String key, long v) { return set(key, GgufWriter.ValueType.UINT32, (int) v); }
    public GgufMutator i32(String key, int v) { return set(key, GgufWriter.ValueType.INT32, v); }
    public GgufMutator f32(String key, float v) { return set(key, GgufWriter.ValueType.FLOAT32, v); }
    public GgufMutator f64(String key, double v) { return set(key, GgufWriter.ValueType.FLOAT64, v); }
    public GgufMutator bool(String key, boolean v) { return set(key, GgufWriter.ValueType.BOOL, v); }
    public GgufMutator string(String key, String v) { return set(key, GgufWriter.ValueType.STRING, v); }

    /** Sets {@code key} to an array of {@code elementType} (Java array as {@link GgufWriter#putArray} wants it). */
    public GgufMutator array(String key, GgufWriter.ValueType elementType, Object javaArray) {
        kvs.put(key, new Kv(GgufWriter.ValueType.ARRAY, elementType, javaArray));
        return this;
    }

    public GgufMutator remove(String key) {
        if (kvs.remove(key) == null) throw new IllegalArgumentException("no key " + key);
        return this;
    }

    /** The current value of an array key, as the Java array it will be written from (a copy). */
    public Object arrayValue(String key) {
        Kv kv = kvs.get(key);
        if (kv == null || kv.type() != GgufWriter.ValueType.ARRAY) throw new IllegalArgumentException("no array key " + key);
        return switch (kv.value()) {
            case String[] a -> a.clone();
            case float[] a -> a.clone();
            case int[] a -> a.clone();
            default -> throw new IllegalArgumentException(key + ": " + kv.value().getClass());
        };
    }

    /** The keys of the gemma2 schema ({@link Gemma2Header#KEYS}) with the GGUF type each must have, for fuzzing. */
    public static Map<String, GgufValueType> gemma2Schema() {
        Map<String, GgufValueType> m = new LinkedHashMap<>();
        for (Gemma2Header.Key k : Gemma2Header.KEYS) m.put(k.name(), k.array() ? GgufValueType.ARRAY : k.types().iterator().next());
        return m;
    }

    /** The keys present now, in file order. */
    public List<String> keys() { return List.copyOf(kvs.keySet()); }

    /** The tensors present now, in file order. */
    public List<String> tensorNames() { return List.copyOf(tensors.keySet()); }

    /** The shape (ggml ne) of a tensor. */
    public long[] tensorNe(String name) { return tensor(name).ne().clone(); }

    /** The ggml type of a tensor. */
    public GgmlType tensorType(String name) { return tensor(name).type(); }

    /** Renames a tensor, keeping its place, shape, type and bytes. */
    public GgufMutator renameTensor(String from, String to) {
        tensor(from);
        Map<String, T> copy = new LinkedHashMap<>();
        for (var e : tensors.entrySet()) copy.put(e.getKey().equals(from) ? to : e.getKey(), e.getValue());
        tensors.clear();
        tensors.putAll(copy);
        return this;
    }

    private GgufMutator set(String key, GgufWriter.ValueType t, Object v) {
        kvs.put(key, new Kv(t, null, v));
        return this;
    }

    /** Stores {@code name} as {@code type}: same shape, zero bytes of the new size. */
    public GgufMutator tensorType(String name, GgmlType type) {
        T t = tensor(name);
        tensors.put(name, new T(t.ne(), type, new byte[(int) bytes(t.ne(), type)]));
        return this;
    }

    /** Replaces the tensor's bytes (same shape and type; F32 data little-endian). */
    public GgufMutator tensorData(String name, byte[] data) {
        T t = tensor(name);
        if (data.length != t.data().length) throw new IllegalArgumentException(name + ": " + data.length + " bytes, needs " + t.data().length);
        tensors.put(name, new T(t.ne(), t.type(), data.clone()));
        return this;
    }

    /** The tensor's current bytes (a copy). */
    public byte[] tensorData(String name) { return tensor(name).data().clone(); }

    public GgufMutator removeTensor(String name) {
        tensor(name);
        tensors.remove(name);
        return this;
    }

    /** Adds a tensor of zeros. */
    public GgufMutator addTensor(String name, GgmlType type, long... ne) {
        if (tensors.containsKey(name)) throw new IllegalArgumentException("tensor " + name + " exists");
        tensors.put(name, new T(ne.clone(), type, new byte[(int) bytes(ne, type)]));
        return this;
    }

    public Path write(Path file) throws IOException {
        GgufWriter w = new GgufWriter();
        for (var e : kvs.entrySet()) {
            Kv kv = e.getValue();
            String k = e.getKey();
            switch (kv.type()) {
                case ARRAY -> w.putArray(k, kv.elementType(), kv.value());
                case UINT8 -> w.putUint8(k, (Integer) kv.value());
                case INT8 -> w.putInt8(k, (Integer) kv.value());
                case UINT16 -> w.putUint16(k, (Integer) kv.value());
                case INT16 -> w.putInt16(k, (Integer) kv.value());
                case UINT32 -> w.putUint32(k, Integer.toUnsignedLong((Integer) kv.value()));
                case INT32 -> w.putInt32(k, (Integer) kv.value());
                case UINT64 -> w.putUint64(k, (Long) kv.value());
                case INT64 -> w.putInt64(k, (Long) kv.value());
                case FLOAT32 -> w.putFloat32(k, (Float) kv.value());
                case FLOAT64 -> w.putFloat64(k, (Double) kv.value());
                case BOOL -> w.putBool(k, (Boolean) kv.value());
                case STRING -> w.putString(k, (String) kv.value());
            }
        }
        for (var e : tensors.entrySet()) w.addRawTensor(e.getKey(), e.getValue().ne(), e.getValue().type(), e.getValue().data());
        w.write(file);
        return file;
    }

    private T tensor(String name) {
        T t = tensors.get(name);
        if (t == null) throw new IllegalArgumentException("no tensor " + name);
        return t;
    }

    private static long bytes(long[] ne, GgmlType type) {
        long n = 1;
        for (long d : ne) n *= d;
        return type.rowBytes(ne[0]) * (n / ne[0]);
    }

    private static GgufWriter.ValueType writerType(GgufValueType t) {
        return GgufWriter.ValueType.valueOf(t.name());
    }

    private static Object scalar(GgufValueType t, Object v) {
        return switch (t) {
            case UINT32 -> (int) (long) (Long) v;
            default -> v;
        };
    }

    private static Object javaArray(GgufValueType et, List<?> l) {
        int n = l.size();
        return switch (et) {
            case STRING -> l.toArray(String[]::new);
            case FLOAT32 -> { float[] a = new float[n]; for (int i = 0; i < n; i++) a[i] = (Float) l.get(i); yield a; }
            case INT32 -> { int[] a = new int[n]; for (int i = 0; i < n; i++) a[i] = (Integer) l.get(i); yield a; }
            case UINT32 -> { int[] a = new int[n]; for (int i = 0; i < n; i++) a[i] = (int) (long) (Long) l.get(i); yield a; }
            case UINT8, INT8 -> { byte[] a = new byte[n]; for (int i = 0; i < n; i++) a[i] = (byte) (int) (Integer) l.get(i); yield a; }
            case BOOL -> { boolean[] a = new boolean[n]; for (int i = 0; i < n; i++) a[i] = (Boolean) l.get(i); yield a; }
            default -> throw new IllegalArgumentException("arrays of " + et + " are not rewritten");
        };
    }
}
