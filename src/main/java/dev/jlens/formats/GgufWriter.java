package dev.jlens.formats;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Writes GGUF v3 files as ggml/src/gguf.cpp lays them out: header, KV metadata, tensor infos, zero
 * padding to {@code general.alignment}, then each tensor's data padded to the alignment.
 *
 * <p>Tensors are registered as producers and only run while {@link #write(Path)} streams the file, so
 * a multi-gigabyte model never has to exist in memory. F32 producers may be stored as F32, F16, BF16 or
 * Q8_0 (converted row by row exactly as ggml does); anything else is given as pre-encoded bytes.
 * Output is atomic (temp file + fsync + rename).
 */
public final class GgufWriter {
    public static final int VERSION = 3;
    public static final int DEFAULT_ALIGNMENT = 32;
    public static final String ALIGNMENT_KEY = "general.alignment";
    /** ggml's GGML_MAX_NAME is 64 including the terminating NUL. */
    public static final int MAX_TENSOR_NAME_BYTES = 63;
    public static final int MAX_DIMS = 4;

    private static final byte[] MAGIC = {'G', 'G', 'U', 'F'};

    /** gguf_type: the value types of KV metadata, numbered as in gguf.h. */
    public enum ValueType {
        UINT8(0), INT8(1), UINT16(2), INT16(3), UINT32(4), INT32(5), FLOAT32(6), BOOL(7), STRING(8),
        ARRAY(9), UINT64(10), INT64(11), FLOAT64(12);

        public final int id;

        ValueType(int id) { this.id = id; }
    }

    /** Receives F32 data in arbitrary chunks; the total must be exactly the tensor's element count. */
    @FunctionalInterface
    public interface FloatSink {
        void accept(float[] data, int offset, int length) throws IOException;

        default void accept(float[] data) throws IOException { accept(data, 0, data.length); }
    }

    /** Produces a tensor's F32 elements in ggml order (ne[0] fastest). Called once per {@link #write}. */
    @FunctionalInterface
    public interface F32Source {
        void produce(FloatSink sink) throws IOException;
    }

    /** Receives pre-encoded tensor bytes; the total must be exactly the tensor's byte size. */
    @FunctionalInterface
    public interface ByteSink {
        void accept(ByteBuffer data) throws IOException;

        default void accept(byte[] data) throws IOException { accept(ByteBuffer.wrap(data)); }

        default void accept(MemorySegment data) throws IOException { accept(data.asByteBuffer()); }
    }

    /** Produces a tensor's encoded bytes (e.g. Q4_0 blocks from ggml's quantizer). */
    @FunctionalInterface
    public interface RawSource {
        void produce(ByteSink sink) throws IOException;
    }

    private record Kv(ValueType type, ValueType elementType, Object value) {}

    private record Tensor(String name, long[] ne, GgmlType type, F32Source f32, RawSource raw) {
        long elements() {
            long n = 1;
            for (long d : ne) n = Math.multiplyExact(n, d);
            return n;
        }

        long bytes() { return type.rowBytes(ne[0]) * (elements() / ne[0]); }
    }

    private final Map<String, Kv> kvs = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new LinkedHashSet<>();

    // ---------------------------------------------------------------- metadata

    public GgufWriter putUint8(String key, int value) { return put(key, ValueType.UINT8, (byte) checkRange(key, value, 0, 0xFF)); }
    public GgufWriter putInt8(String key, int value) { return put(key, ValueType.INT8, (byte) checkRange(key, value, Byte.MIN_VALUE, Byte.MAX_VALUE)); }
    public GgufWriter putUint16(String key, int value) { return put(key, ValueType.UINT16, (short) checkRange(key, value, 0, 0xFFFF)); }
    public GgufWriter putInt16(String key, int value) { return put(key, ValueType.INT16, (short) checkRange(key, value, Short.MIN_VALUE, Short.MAX_VALUE)); }
    public GgufWriter putUint32(String key, long value) { return put(key, ValueType.UINT32, (int) checkRange(key, value, 0, 0xFFFF_FFFFL)); }
    public GgufWriter putInt32(String key, int value) { return put(key, ValueType.INT32, value); }
    /** The value is written as its 64 bits; negative Java longs stand for values above 2^63. */
    public GgufWriter putUint64(String key, long value) { return put(key, ValueType.UINT64, value); }
    public GgufWriter putInt64(String key, long value) { return put(key, ValueType.INT64, value); }
    public GgufWriter putFloat32(String key, float value) { return put(key, ValueType.FLOAT32, value); }
    public GgufWriter putFloat64(String key, double value) { return put(key, ValueType.FLOAT64, value); }
    public GgufWriter putBool(String key, boolean value) { return put(key, ValueType.BOOL, value); }
    public GgufWriter putString(String key, String value) { return put(key, ValueType.STRING, Objects.requireNonNull(value, key)); }

    public GgufWriter putStringArray(String key, List<String> values) {
        for (int i = 0; i < values.size(); i++) Objects.requireNonNull(values.get(i), () -> key + "[" + values.size() + "] is null");
        return putArray(key, ValueType.STRING, values.toArray(String[]::new));
    }

    public GgufWriter putFloat32Array(String key, float[] values) { return putArray(key, ValueType.FLOAT32, values.clone()); }
    public GgufWriter putInt32Array(String key, int[] values) { return putArray(key, ValueType.INT32, values.clone()); }

    /**
     * An array of {@code elementType}. The Java array must match: byte[] for (U)INT8, short[] for (U)INT16,
     * int[] for (U)INT32, long[] for (U)INT64, float[], double[], boolean[], String[]. Nested arrays are not
     * supported (llama.cpp never reads them).
     */
    public GgufWriter putArray(String key, ValueType elementType, Object javaArray) {
        Objects.requireNonNull(javaArray, key);
        Class<?> expected = switch (elementType) {
            case UINT8, INT8 -> byte[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case BOOL -> boolean[].class;
            case STRING -> String[].class;
            case ARRAY -> throw new IllegalArgumentException(key + ": nested arrays are not supported");
        };
        if (javaArray.getClass() != expected) {
            throw new IllegalArgumentException(key + ": array of " + elementType + " needs " + expected.getSimpleName()
                    + ", got " + javaArray.getClass().getSimpleName());
        }
        checkKey(key);
        kvs.put(key, new Kv(ValueType.ARRAY, elementType, javaArray));
        return this;
    }

    /** Sets {@code general.alignment} (u32, power of two) used for tensor data. */
    public GgufWriter alignment(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException(ALIGNMENT_KEY + ": " + alignment + " is not a positive power of two");
        }
        return putUint32(ALIGNMENT_KEY, alignment);
    }

    /** The alignment this file will use: {@code general.alignment} if set, else 32 (as gguf.cpp reads it). */
    public int alignment() {
        Kv kv = kvs.get(ALIGNMENT_KEY);
        if (kv == null) return DEFAULT_ALIGNMENT;
        if (kv.type() != ValueType.UINT32) {
            throw new IllegalStateException(ALIGNMENT_KEY + " must be UINT32 (gguf.cpp rejects " + kv.type() + ")");
        }
        int a = (Integer) kv.value();
        if (a <= 0 || Integer.bitCount(a) != 1) throw new IllegalStateException(ALIGNMENT_KEY + ": " + Integer.toUnsignedString(a) + " is not a power of two");
        return a;
    }

    private GgufWriter put(String key, ValueType type, Object value) {
        checkKey(key);
        kvs.put(key, new Kv(type, null, value));
        return this;
    }

    private void checkKey(String key) {
        Objects.requireNonNull(key, "key");
        if (key.isEmpty()) throw new IllegalArgumentException("empty KV key");
        if (kvs.containsKey(key)) throw new IllegalArgumentException("duplicate KV key " + key);
    }

    private static long checkRange(String key, long value, long min, long max) {
        if (value < min || value > max) throw new IllegalArgumentException(key + ": " + value + " outside [" + min + ", " + max + "]");
        return value;
    }

    // ---------------------------------------------------------------- tensors

    /** A tensor produced as F32 and stored as {@code storeAs} (F32, F16, BF16 or Q8_0). */
    public GgufWriter addTensor(String name, long[] ne, GgmlType storeAs, F32Source source) {
        Objects.requireNonNull(source, name);
        if (storeAs != GgmlType.F32 && storeAs != GgmlType.F16 && storeAs != GgmlType.BF16 && storeAs != GgmlType.Q8_0) {
            throw new IllegalArgumentException(name + ": cannot convert F32 to " + storeAs + " in Java; pass pre-encoded bytes to addRawTensor");
        }
        return add(new Tensor(name, checkShape(name, ne, storeAs), storeAs, source, null));
    }

    /** Held F32 data, read when written. */
    public GgufWriter addTensor(String name, long[] ne, GgmlType storeAs, float[] data) {
        Objects.requireNonNull(data, name);
        return addTensor(name, ne, storeAs, sink -> sink.accept(data, 0, data.length));
    }

    /** F32 data produced only when the file is written (e.g. generated per tensor). */
    public GgufWriter addTensor(String name, long[] ne, GgmlType storeAs, Supplier<float[]> data) {
        Objects.requireNonNull(data, name);
        return addTensor(name, ne, storeAs, sink -> sink.accept(Objects.requireNonNull(data.get(), name)));
    }

    /** F32 data in native (little-endian) float layout, e.g. off-heap; copied in chunks when written. */
    public GgufWriter addTensor(String name, long[] ne, GgmlType storeAs, MemorySegment f32) {
        Objects.requireNonNull(f32, name);
        return addTensor(name, ne, storeAs, sink -> {
            if (f32.byteSize() % Float.BYTES != 0) throw new IllegalArgumentException(name + ": segment of " + f32.byteSize() + " bytes is not whole floats");
            long n = f32.byteSize() / Float.BYTES;
            float[] chunk = new float[(int) Math.min(n, 1 << 16)];
            for (long i = 0; i < n; i += chunk.length) {
                int len = (int) Math.min(chunk.length, n - i);
                MemorySegment.copy(f32, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), i * Float.BYTES, chunk, 0, len);
                sink.accept(chunk, 0, len);
            }
        });
    }

    /** Pre-encoded bytes of {@code type} (e.g. Q4_0 from ggml); the producer must give exactly the tensor's size. */
    public GgufWriter addRawTensor(String name, long[] ne, GgmlType type, RawSource source) {
        Objects.requireNonNull(source, name);
        Objects.requireNonNull(type, name);
        return add(new Tensor(name, checkShape(name, ne, type), type, null, source));
    }

    public GgufWriter addRawTensor(String name, long[] ne, GgmlType type, byte[] data) {
        Objects.requireNonNull(data, name);
        return addRawTensor(name, ne, type, sink -> sink.accept(data));
    }

    public GgufWriter addRawTensor(String name, long[] ne, GgmlType type, MemorySegment data) {
        Objects.requireNonNull(data, name);
        return addRawTensor(name, ne, type, sink -> sink.accept(data));
    }

    public int tensorCount() { return tensors.size(); }

    private GgufWriter add(Tensor t) {
        if (!tensorNames.add(t.name())) throw new IllegalArgumentException("duplicate tensor name " + t.name());
        tensors.add(t);
        return this;
    }

    private static long[] checkShape(String name, long[] ne, GgmlType type) {
        Objects.requireNonNull(name, "tensor name");
        Objects.requireNonNull(type, name);
        if (name.isEmpty()) throw new IllegalArgumentException("empty tensor name");
        int nameBytes = name.getBytes(StandardCharsets.UTF_8).length;
        if (nameBytes > MAX_TENSOR_NAME_BYTES) {
            throw new IllegalArgumentException(name + ": name of " + nameBytes + " bytes exceeds ggml's limit of " + MAX_TENSOR_NAME_BYTES);
        }
        if (ne == null || ne.length < 1 || ne.length > MAX_DIMS) {
            throw new IllegalArgumentException(name + ": needs 1.." + MAX_DIMS + " dimensions, got " + (ne == null ? "null" : ne.length));
        }
        long n = 1;
        for (int i = 0; i < ne.length; i++) {
            if (ne[i] <= 0) throw new IllegalArgumentException(name + ": ne[" + i + "] = " + ne[i] + " is not positive");
            n = Math.multiplyExact(n, ne[i]);
        }
        if (ne[0] % type.blockSize != 0) {
            throw new IllegalArgumentException(name + ": ne[0] = " + ne[0] + " is not a multiple of " + type + " block size " + type.blockSize);
        }
        if (ne[0] > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(name + ": row of " + ne[0] + " elements is too long");
        return ne.clone();
    }

    // ---------------------------------------------------------------- writing

    /** Writes the file atomically, running each tensor's producer once, in registration order. */
    public void write(Path file) throws IOException {
        int alignment = alignment();
        AtomicFiles.write(file, ch -> new Out(ch, file).writeAll(alignment));
    }

    /** Byte offsets of each tensor relative to the data section (as stored in the tensor infos). */
    public long[] tensorDataOffsets() {
        int alignment = alignment();
        long[] offsets = new long[tensors.size()];
        long off = 0;
        for (int i = 0; i < tensors.size(); i++) {
            offsets[i] = off;
            off += pad(tensors.get(i).bytes(), alignment);
        }
        return offsets;
    }

    private static long pad(long n, int alignment) { return (n + alignment - 1) / alignment * alignment; }

    /** Buffered little-endian output that counts bytes, so padding follows gguf.cpp exactly. */
    private final class Out {
        private final FileChannel ch;
        private final Path file;
        private final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        private long written;

        Out(FileChannel ch, Path file) {
            this.ch = ch;
            this.file = file;
        }

        void writeAll(int alignment) throws IOException {
            put(MAGIC);
            u32(VERSION);
            i64(tensors.size());
            i64(kvs.size());
            for (Map.Entry<String, Kv> e : kvs.entrySet()) {
                str(e.getKey());
                Kv kv = e.getValue();
                u32(kv.type().id);
                if (kv.type() == ValueType.ARRAY) array(kv.elementType(), kv.value());
                else scalar(kv.type(), kv.value());
            }
            long[] offsets = tensorDataOffsets();
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                str(t.name());
                u32(t.ne().length);
                for (long d : t.ne()) i64(d);
                u32(t.type().id);
                i64(offsets[i]);
            }
            padTo(alignment);
            long dataStart = written;
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i);
                long before = written;
                if (written - dataStart != offsets[i]) throw new IllegalStateException(t.name() + ": data at " + (written - dataStart) + ", expected " + offsets[i]);
                if (t.f32() != null) writeF32(t);
                else writeRaw(t);
                long got = written - before;
                if (got != t.bytes()) {
                    throw new FormatException(file, "tensor " + t.name(), "producer gave " + got + " bytes, " + t.type() + " " + Arrays.toString(t.ne()) + " needs " + t.bytes());
                }
                padTo(alignment);
            }
            flush();
        }

        private void writeRaw(Tensor t) throws IOException {
            long limit = t.bytes();
            long start = written;
            t.raw().produce(data -> {
                ByteBuffer d = data.duplicate();
                if (written - start + d.remaining() > limit) {
                    throw new FormatException(file, "tensor " + t.name(), "producer gave more than " + limit + " bytes");
                }
                while (d.hasRemaining()) {
                    if (!buf.hasRemaining()) flush();
                    int n = Math.min(buf.remaining(), d.remaining());
                    ByteBuffer slice = d.slice(d.position(), n);
                    buf.put(slice);
                    d.position(d.position() + n);
                    written += n;
                }
            });
        }

        private void writeF32(Tensor t) throws IOException {
            int rowLen = (int) t.ne()[0];
            long total = t.elements();
            float[] row = new float[rowLen];
            long[] produced = {0};
            int[] fill = {0};
            t.f32().produce((data, off, len) -> {
                Objects.checkFromIndexSize(off, len, data.length);
                if (produced[0] + len > total) {
                    throw new FormatException(file, "tensor " + t.name(), "producer gave more than " + total + " elements");
                }
                produced[0] += len;
                int pos = off;
                int left = len;
                while (left > 0) {
                    int n = Math.min(left, rowLen - fill[0]);
                    System.arraycopy(data, pos, row, fill[0], n);
                    fill[0] += n;
                    pos += n;
                    left -= n;
                    if (fill[0] == rowLen) {
                        encodeRow(t.type(), row);
                        fill[0] = 0;
                    }
                }
            });
            if (produced[0] != total) {
                throw new FormatException(file, "tensor " + t.name(), "producer gave " + produced[0] + " elements, shape " + Arrays.toString(t.ne()) + " needs " + total);
            }
        }

        private void encodeRow(GgmlType type, float[] row) throws IOException {
            switch (type) {
                case F32 -> { for (float v : row) { ensure(4); buf.putFloat(v); written += 4; } }
                case F16 -> { for (float v : row) { ensure(2); buf.putShort(Float.floatToFloat16(v)); written += 2; } }
                case BF16 -> { for (float v : row) { ensure(2); buf.putShort(fp32ToBf16(v)); written += 2; } }
                case Q8_0 -> {
                    byte[] block = new byte[GgmlType.Q8_0.typeSize];
                    for (int b = 0; b < row.length; b += 32) {
                        quantizeBlockQ8_0(row, b, block, 0);
                        put(block);
                    }
                }
                default -> throw new IllegalStateException(type + " is not convertible from F32");
            }
        }

        private void ensure(int n) throws IOException { if (buf.remaining() < n) flush(); }

        private void put(byte[] b) throws IOException {
            int pos = 0;
            while (pos < b.length) {
                if (!buf.hasRemaining()) flush();
                int n = Math.min(buf.remaining(), b.length - pos);
                buf.put(b, pos, n);
                pos += n;
            }
            written += b.length;
        }

        private void u32(int v) throws IOException { ensure(4); buf.putInt(v); written += 4; }
        private void i64(long v) throws IOException { ensure(8); buf.putLong(v); written += 8; }

        private void str(String s) throws IOException {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            put(b);
        }

        private void scalar(ValueType type, Object v) throws IOException {
            switch (type) {
                case UINT8, INT8 -> put(new byte[] {(Byte) v});
                case UINT16, INT16 -> { ensure(2); buf.putShort((Short) v); written += 2; }
                case UINT32, INT32 -> u32((Integer) v);
                case UINT64, INT64 -> i64((Long) v);
                case FLOAT32 -> { ensure(4); buf.putFloat((Float) v); written += 4; }
                case FLOAT64 -> { ensure(8); buf.putDouble((Double) v); written += 8; }
                case BOOL -> put(new byte[] {(byte) ((Boolean) v ? 1 : 0)});
                case STRING -> str((String) v);
                case ARRAY -> throw new IllegalStateException("array as scalar");
            }
        }

        private void array(ValueType et, Object a) throws IOException {
            u32(et.id);
            switch (et) {
                case UINT8, INT8 -> { byte[] x = (byte[]) a; i64(x.length); put(x); }
                case UINT16, INT16 -> { short[] x = (short[]) a; i64(x.length); for (short v : x) scalar(et, v); }
                case UINT32, INT32 -> { int[] x = (int[]) a; i64(x.length); for (int v : x) u32(v); }
                case UINT64, INT64 -> { long[] x = (long[]) a; i64(x.length); for (long v : x) i64(v); }
                case FLOAT32 -> { float[] x = (float[]) a; i64(x.length); for (float v : x) scalar(et, v); }
                case FLOAT64 -> { double[] x = (double[]) a; i64(x.length); for (double v : x) scalar(et, v); }
                case BOOL -> { boolean[] x = (boolean[]) a; i64(x.length); for (boolean v : x) scalar(et, v); }
                case STRING -> { String[] x = (String[]) a; i64(x.length); for (String v : x) str(v); }
                case ARRAY -> throw new IllegalStateException("nested array");
            }
        }

        private void padTo(int alignment) throws IOException {
            long target = pad(written, alignment);
            put(new byte[(int) (target - written)]);
        }

        private void flush() throws IOException {
            buf.flip();
            while (buf.hasRemaining()) ch.write(buf);
            buf.clear();
        }
    }

    // ---------------------------------------------------------------- conversions (match ggml bit for bit)

    /** ggml_compute_fp32_to_bf16: round to nearest even, NaN forced quiet. */
    public static short fp32ToBf16(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (short) ((u >>> 16) | 64);
        return (short) ((u + (0x7fff + ((u >>> 16) & 1))) >>> 16);
    }

    /**
     * quantize_row_q8_0_ref: per block of 32, d = amax/127 stored as F16, q = roundf(x * (1/d)).
     * Returns n/32 blocks of 34 bytes (little-endian F16 scale, then 32 signed bytes).
     */
    public static byte[] quantizeQ8_0(float[] x) {
        if (x.length % 32 != 0) throw new IllegalArgumentException("Q8_0 needs a multiple of 32 values, got " + x.length);
        byte[] out = new byte[x.length / 32 * GgmlType.Q8_0.typeSize];
        for (int b = 0; b < x.length / 32; b++) quantizeBlockQ8_0(x, b * 32, out, b * GgmlType.Q8_0.typeSize);
        return out;
    }

    private static void quantizeBlockQ8_0(float[] x, int from, byte[] out, int at) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[from + j]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        short h = Float.floatToFloat16(d);
        out[at] = (byte) h;
        out[at + 1] = (byte) (h >> 8);
        for (int j = 0; j < 32; j++) {
            float x0 = x[from + j] * id;
            out[at + 2 + j] = (byte) roundf(x0);
        }
    }

    /** C roundf: halfway cases away from zero (Math.round rounds them towards +infinity). */
    static int roundf(float v) {
        double a = Math.floor(Math.abs((double) v) + 0.5);
        return (int) (v < 0 ? -a : a);
    }
}
