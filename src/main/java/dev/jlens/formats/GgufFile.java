package dev.jlens.formats;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A memory-mapped GGUF file (version 2 or 3), validated in Java before llama.cpp ever sees it: every
 * length is checked against the bytes that remain before anything is allocated, and the tensor
 * layout must be exactly what gguf.cpp accepts (aligned, in order, no gaps or overlaps, in the file).
 */
public final class GgufFile implements AutoCloseable {
    static final int MAGIC = 0x46554747; // "GGUF" little-endian
    static final int MAX_NAME = 64; // GGML_MAX_NAME, including the terminating NUL
    static final int MAX_DIMS = 4;
    static final long DEFAULT_ALIGNMENT = 32;
    /** Sanity bound: Gemma's vocabulary has 256000 strings; anything near this is corrupt. */
    static final long MAX_STRING_ARRAY = 1 << 22;
    static final long MAX_STRING = 1 << 30; // GGUF_MAX_STRING_LENGTH

    private static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** One tensor: ggml's ne (ne[0] is the contiguous row length), offset relative to the data section. */
    public record TensorInfo(String name, GgmlType type, long[] ne, long offset, long nbytes) {
        public TensorInfo {
            ne = ne.clone();
        }

        @Override
        public long[] ne() {
            return ne.clone();
        }

        public long elementCount() {
            long n = 1;
            for (long d : ne) n *= d;
            return n;
        }

        @Override
        public String toString() {
            return name + " " + type + " " + Arrays.toString(ne);
        }
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment seg;
    private final int version;
    private final long alignment;
    private final long dataOffset;
    private final Map<String, Object> metadata;
    private final Map<String, GgufValueType> types;
    private final Map<String, GgufValueType> arrayTypes;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> byName;

    private GgufFile(Path file, Arena arena, MemorySegment seg) throws FormatException {
        this.file = file;
        this.arena = arena;
        this.seg = seg;
        Reader r = new Reader(file, seg);
        int magic = r.i32("magic");
        if (magic != MAGIC) {
            throw new FormatException(file, "magic", "expected 'GGUF' but found 0x" + Integer.toHexString(magic));
        }
        version = r.i32("version");
        if (version == 1) throw new FormatException(file, "version", "GGUF version 1 is no longer supported; reconvert the model");
        if (version != 2 && version != 3) {
            throw new FormatException(file, "version", "unsupported GGUF version " + Integer.toUnsignedString(version)
                    + ((version & 0xFFFF) == 0 && version != 0 ? " (big-endian file?)" : "") + "; versions 2 and 3 are supported");
        }
        long nTensors = r.i64("n_tensors");
        long nKv = r.i64("n_kv");
        // every tensor info takes >= 32 bytes and every KV >= 14: counts beyond that cannot be real
        if (nTensors < 0 || nTensors > r.remaining() / 32) {
            throw new FormatException(file, "n_tensors", "tensor count " + nTensors + " does not fit in the " + r.remaining() + " remaining bytes");
        }
        if (nKv < 0 || nKv > r.remaining() / 14) {
            throw new FormatException(file, "n_kv", "key-value count " + nKv + " does not fit in the " + r.remaining() + " remaining bytes");
        }

        Map<String, Object> md = new LinkedHashMap<>();
        Map<String, GgufValueType> ty = new HashMap<>();
        Map<String, GgufValueType> aty = new HashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = r.string("kv[" + i + "].key", MAX_STRING);
            if (key.isEmpty()) throw new FormatException(file, "kv[" + i + "].key", "key is empty");
            if (md.containsKey(key)) throw new FormatException(file, key, "duplicate key");
            int tid = r.i32(key + ".type");
            GgufValueType t = GgufValueType.byId(tid);
            if (t == null) throw new FormatException(file, key, "invalid GGUF value type " + tid);
            Object v;
            if (t == GgufValueType.ARRAY) {
                int eid = r.i32(key + ".array_type");
                GgufValueType et = GgufValueType.byId(eid);
                if (et == null) throw new FormatException(file, key, "invalid GGUF array element type " + eid);
                if (et == GgufValueType.ARRAY) throw new FormatException(file, key, "arrays of arrays are not supported");
                long n = r.i64(key + ".array_length");
                if (n < 0 || n > r.remaining() / et.minSize) {
                    throw new FormatException(file, key, "array length " + Long.toUnsignedString(n) + " of " + et + " does not fit in the " + r.remaining() + " remaining bytes");
                }
                v = r.array(key, et, n);
                aty.put(key, et);
            } else {
                v = r.scalar(key, t);
            }
            md.put(key, v);
            ty.put(key, t);
        }
        metadata = Collections.unmodifiableMap(md);
        types = ty;
        arrayTypes = aty;

        Object al = md.get("general.alignment");
        if (al != null) {
            if (ty.get("general.alignment") != GgufValueType.UINT32) {
                throw new FormatException(file, "general.alignment", "must be UINT32 but is " + ty.get("general.alignment"));
            }
            long a = (Long) al;
            if (a == 0 || (a & (a - 1)) != 0) throw new FormatException(file, "general.alignment", "alignment " + a + " is not a power of two");
            alignment = a;
        } else {
            alignment = DEFAULT_ALIGNMENT;
        }

        List<TensorInfo> ts = new ArrayList<>((int) Math.min(nTensors, 4096));
        Map<String, TensorInfo> names = new HashMap<>();
        for (long i = 0; i < nTensors; i++) {
            String name = r.string("tensor[" + i + "].name", MAX_NAME);
            if (name.length() >= MAX_NAME || name.getBytes(StandardCharsets.UTF_8).length >= MAX_NAME) {
                throw new FormatException(file, "tensor[" + i + "].name", "tensor name '" + name + "' is too long (max " + (MAX_NAME - 1) + " bytes)");
            }
            if (names.containsKey(name)) throw new FormatException(file, name, "duplicate tensor name");
            int nDims = r.i32(name + ".n_dims");
            if (nDims < 1 || nDims > MAX_DIMS) {
                throw new FormatException(file, name + ".n_dims", (nDims > MAX_DIMS || nDims < 0 ? "more than 4 dims: " : "no dims: ") + Integer.toUnsignedString(nDims));
            }
            long[] ne = new long[nDims];
            long count = 1;
            for (int d = 0; d < nDims; d++) {
                ne[d] = r.i64(name + ".ne[" + d + "]");
                if (ne[d] <= 0) throw new FormatException(file, name + ".ne[" + d + "]", "dimension " + ne[d] + " must be > 0");
                try {
                    count = Math.multiplyExact(count, ne[d]);
                } catch (ArithmeticException e) {
                    throw new FormatException(file, name + ".ne", "element count of " + Arrays.toString(Arrays.copyOf(ne, d + 1)) + " overflows a long");
                }
            }
            int typeId = r.i32(name + ".type");
            GgmlType type = GgmlType.byId(typeId).orElseThrow(() ->
                    new FormatException(file, name + ".type", "unknown ggml type " + typeId));
            if (ne[0] % type.blockSize != 0) {
                throw new FormatException(file, name + ".ne[0]", "row of " + ne[0] + " elements is not a multiple of " + type + " block size " + type.blockSize);
            }
            long nbytes;
            try {
                nbytes = Math.multiplyExact(count / type.blockSize, (long) type.typeSize);
            } catch (ArithmeticException e) {
                throw new FormatException(file, name + ".ne", "byte size of " + Arrays.toString(ne) + " " + type + " overflows a long");
            }
            long offset = r.i64(name + ".offset");
            TensorInfo ti = new TensorInfo(name, type, ne, offset, nbytes);
            ts.add(ti);
            names.put(name, ti);
        }

        long infoEnd = r.pos;
        long dataStart = nTensors == 0 ? infoEnd : align(infoEnd, alignment);
        if (dataStart > seg.byteSize()) {
            throw new FormatException(file, "data", "data section would start at " + dataStart + " but the file has " + seg.byteSize() + " bytes");
        }
        dataOffset = dataStart;
        long expected = 0;
        TensorInfo prev = null;
        for (TensorInfo ti : ts) {
            if (ti.offset % alignment != 0) {
                throw new FormatException(file, ti.name + ".offset", "offset " + Long.toUnsignedString(ti.offset) + " is not a multiple of alignment " + alignment);
            }
            // gguf.cpp requires tensors back to back in info order, each padded to the alignment
            if (ti.offset != expected) {
                throw new FormatException(file, ti.name + ".offset", "offset " + Long.toUnsignedString(ti.offset) + (Long.compareUnsigned(ti.offset, expected) < 0
                        ? " overlaps tensor '" + prev.name + "'" : " leaves a gap") + "; expected " + expected);
            }
            if (ti.nbytes > seg.byteSize() - dataStart - ti.offset) {
                throw new FormatException(file, ti.name, "data at " + (dataStart + ti.offset) + " + " + ti.nbytes
                        + " bytes runs past the end of the file (" + seg.byteSize() + " bytes): not enough data");
            }
            expected = align(ti.offset + ti.nbytes, alignment);
            prev = ti;
        }
        tensors = Collections.unmodifiableList(ts);
        byName = names;
    }

    /**
     * Why {@code file} cannot be read as a model before a byte of it is read, or null when it is a readable regular
     * file (symbolic links followed): "does not exist", "is a folder", "is not a regular file (...)", "is not
     * readable". A FIFO is never opened: opening one for reading blocks until some writer appears.
     */
    public static String notARegularFile(Path file) {
        if (Files.isRegularFile(file)) return Files.isReadable(file) ? null : "is not readable";
        if (Files.isDirectory(file)) return "is a folder, not a file";
        if (Files.exists(file)) return "is not a regular file (a FIFO, socket or device): a model must be a regular file";
        return "does not exist";
    }

    /** Maps and validates {@code file}; the mapping lives until {@link #close()}. */
    public static GgufFile open(Path file) throws IOException {
        String why = notARegularFile(file);
        if (why != null && !why.equals("is not readable")) {
            if (why.equals("does not exist")) throw new java.nio.file.NoSuchFileException(file.toString());
            throw new FormatException(file, "file", why);
        }
        Arena arena = Arena.ofShared();
        try {
            return new GgufFile(file, arena, Npy.map(file, arena));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static long align(long x, long a) {
        return (x + a - 1) / a * a;
    }

    public Path file() {
        return file;
    }

    public int version() {
        return version;
    }

    public long alignment() {
        return alignment;
    }

    /** Absolute file offset where the tensor data section starts. */
    public long dataOffset() {
        return dataOffset;
    }

    /**
     * All key-value pairs in file order. Integers up to 32 bits signed become Integer, UINT32/UINT64/INT64
     * become Long; FLOAT32 Float, FLOAT64 Double, BOOL Boolean, STRING String, ARRAY an unmodifiable List
     * (numeric arrays are views over the mapping, valid until close).
     */
    public Map<String, Object> metadata() {
        return metadata;
    }

    public Optional<GgufValueType> type(String key) {
        return Optional.ofNullable(types.get(key));
    }

    public Optional<GgufValueType> arrayType(String key) {
        return Optional.ofNullable(arrayTypes.get(key));
    }

    public boolean has(String key) {
        return metadata.containsKey(key);
    }

    private Object require(String key) throws FormatException {
        Object v = metadata.get(key);
        if (v == null) throw new FormatException(file, key, "missing key");
        return v;
    }

    private FormatException wrongType(String key, String wanted) {
        return new FormatException(file, key, "expected " + wanted + " but the value is " + types.get(key)
                + (arrayTypes.containsKey(key) ? " of " + arrayTypes.get(key) : "") + ": " + shortValue(metadata.get(key)));
    }

    private static String shortValue(Object v) {
        String s = v instanceof List<?> l ? "[" + l.size() + " elements]" : String.valueOf(v);
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    public String getString(String key) throws FormatException {
        if (require(key) instanceof String s) return s;
        throw wrongType(key, "STRING");
    }

    /** Any integer type, widened. */
    public long getLong(String key) throws FormatException {
        Object v = require(key);
        if (v instanceof Integer i) return i;
        if (v instanceof Long l) return l;
        throw wrongType(key, "an integer");
    }

    /** Any integer type whose value fits an int. */
    public int getInt(String key) throws FormatException {
        long v = getLong(key);
        if (v != (int) v) throw new FormatException(file, key, "value " + v + " does not fit an int");
        return (int) v;
    }

    public float getFloat(String key) throws FormatException {
        if (require(key) instanceof Float f) return f;
        throw wrongType(key, "FLOAT32");
    }

    public double getDouble(String key) throws FormatException {
        Object v = require(key);
        if (v instanceof Double d) return d;
        if (v instanceof Float f) return f;
        throw wrongType(key, "FLOAT32 or FLOAT64");
    }

    public boolean getBoolean(String key) throws FormatException {
        if (require(key) instanceof Boolean b) return b;
        throw wrongType(key, "BOOL");
    }

    public List<?> getList(String key) throws FormatException {
        if (require(key) instanceof List<?> l) return l;
        throw wrongType(key, "ARRAY");
    }

    @SuppressWarnings("unchecked")
    public List<String> getStringList(String key) throws FormatException {
        List<?> l = getList(key);
        if (arrayTypes.get(key) != GgufValueType.STRING) throw wrongType(key, "ARRAY of STRING");
        return (List<String>) l;
    }

    /** A UINT32 value, exactly the type llama.cpp's loader insists on for hyper-parameters. */
    int getU32(String key) throws FormatException {
        require(key);
        if (types.get(key) != GgufValueType.UINT32) throw wrongType(key, "UINT32");
        long v = (Long) metadata.get(key);
        if (v > Integer.MAX_VALUE) throw new FormatException(file, key, "value " + v + " is too large");
        return (int) v;
    }

    public List<TensorInfo> tensors() {
        return tensors;
    }

    public Optional<TensorInfo> tensor(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    public TensorInfo requireTensor(String name) throws FormatException {
        TensorInfo t = byName.get(name);
        if (t == null) throw new FormatException(file, name, "missing tensor");
        return t;
    }

    /** The tensor's raw bytes (read-only view of the mapping). */
    public MemorySegment data(TensorInfo t) {
        if (byName.get(t.name()) != t) throw new IllegalArgumentException(file + ": " + t.name() + " is not a tensor of this file");
        return seg.asSlice(dataOffset + t.offset(), t.nbytes()).asReadOnly();
    }

    /** Dequantises F32/F16/BF16/Q8_0/Q4_0 to floats exactly as ggml's dequantize_row_* does. */
    public float[] readF32(TensorInfo t) throws FormatException {
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE - 8) throw new FormatException(file, t.name(), n + " elements do not fit a Java array");
        MemorySegment d = data(t);
        float[] out = new float[(int) n];
        switch (t.type()) {
            case F32 -> MemorySegment.copy(d, F32, 0, out, 0, out.length);
            case F16 -> { for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(d.getAtIndex(I16, i)); }
            case BF16 -> { for (int i = 0; i < out.length; i++) out[i] = Float.intBitsToFloat((d.getAtIndex(I16, i) & 0xFFFF) << 16); }
            case Q8_0 -> Quants.dequantizeQ8_0(d, out);
            case Q4_0 -> Quants.dequantizeQ4_0(d, out);
            default -> throw new FormatException(file, t.name(), "cannot dequantise type " + t.type() + " (F32, F16, BF16, Q8_0, Q4_0 are supported)");
        }
        return out;
    }

    /** Checks that this is a gemma2 model llama.cpp can load and returns its hyper-parameters. */
    public Gemma2Header requireGemma2() throws FormatException {
        return Gemma2Header.from(this);
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    /** Bounds-checked little-endian cursor; every failure is a FormatException naming the field. */
    private static final class Reader {
        final Path file;
        final MemorySegment seg;
        long pos;

        Reader(Path file, MemorySegment seg) {
            this.file = file;
            this.seg = seg;
        }

        long remaining() {
            return seg.byteSize() - pos;
        }

        private void need(String field, long n) throws FormatException {
            if (n > remaining()) {
                throw new FormatException(file, field, "needs " + n + " bytes at offset " + pos + " but the file ends at " + seg.byteSize() + " (truncated)");
            }
        }

        byte i8(String f) throws FormatException { need(f, 1); return seg.get(I8, pos++); }
        short i16(String f) throws FormatException { need(f, 2); short v = seg.get(I16, pos); pos += 2; return v; }
        int i32(String f) throws FormatException { need(f, 4); int v = seg.get(I32, pos); pos += 4; return v; }
        long i64(String f) throws FormatException { need(f, 8); long v = seg.get(I64, pos); pos += 8; return v; }

        String string(String field, long maxLen) throws FormatException {
            long len = i64(field + ".length");
            if (len < 0 || len > MAX_STRING) throw new FormatException(file, field, "string length " + Long.toUnsignedString(len) + " exceeds the maximum " + MAX_STRING);
            if (len > remaining()) throw new FormatException(file, field, "string length " + len + " exceeds the " + remaining() + " remaining bytes");
            if (len > maxLen) throw new FormatException(file, field, "string length " + len + " exceeds " + maxLen);
            byte[] b = seg.asSlice(pos, len).toArray(I8);
            pos += len;
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                throw new FormatException(file, field, "string is not valid UTF-8", e);
            }
        }

        Object scalar(String key, GgufValueType t) throws FormatException {
            return switch (t) {
                case UINT8 -> i8(key) & 0xFF;
                case INT8 -> (int) i8(key);
                case UINT16 -> i16(key) & 0xFFFF;
                case INT16 -> (int) i16(key);
                case UINT32 -> i32(key) & 0xFFFFFFFFL;
                case INT32 -> i32(key);
                case FLOAT32 -> Float.intBitsToFloat(i32(key));
                case BOOL -> {
                    byte b = i8(key);
                    if (b != 0 && b != 1) throw new FormatException(file, key, "BOOL value " + b + " is neither 0 nor 1");
                    yield b == 1;
                }
                case STRING -> string(key, MAX_STRING);
                case UINT64 -> {
                    long v = i64(key);
                    if (v < 0) throw new FormatException(file, key, "UINT64 value " + Long.toUnsignedString(v) + " exceeds Long.MAX_VALUE");
                    yield v;
                }
                case INT64 -> i64(key);
                case FLOAT64 -> Double.longBitsToDouble(i64(key));
                case ARRAY -> throw new IllegalStateException("arrays are read by array()");
            };
        }

        List<?> array(String key, GgufValueType et, long n) throws FormatException {
            if (et == GgufValueType.STRING) {
                if (n > MAX_STRING_ARRAY) throw new FormatException(file, key, "string array of " + n + " elements exceeds the limit " + MAX_STRING_ARRAY);
                String[] out = new String[(int) n];
                for (int i = 0; i < out.length; i++) out[i] = string(key + "[" + i + "]", MAX_STRING);
                return List.of(out);
            }
            if (et == GgufValueType.BOOL) {
                for (long i = 0; i < n; i++) {
                    byte b = seg.get(I8, pos + i);
                    if (b != 0 && b != 1) throw new FormatException(file, key + "[" + i + "]", "BOOL value " + b + " is neither 0 nor 1");
                }
            }
            if (n > Integer.MAX_VALUE) throw new FormatException(file, key, "array of " + n + " elements is too long");
            // numeric arrays stay in the mapping: no allocation proportional to an untrusted length
            MemorySegment view = seg.asSlice(pos, n * et.minSize);
            pos += n * et.minSize;
            return new NumericList(view, et, (int) n);
        }
    }

    private static final class NumericList extends AbstractList<Object> {
        private final MemorySegment seg;
        private final GgufValueType t;
        private final int n;

        NumericList(MemorySegment seg, GgufValueType t, int n) {
            this.seg = seg;
            this.t = t;
            this.n = n;
        }

        @Override
        public int size() {
            return n;
        }

        @Override
        public Object get(int i) {
            java.util.Objects.checkIndex(i, n);
            long o = (long) i * t.minSize;
            return switch (t) {
                case UINT8 -> seg.get(I8, o) & 0xFF;
                case INT8 -> (int) seg.get(I8, o);
                case UINT16 -> seg.get(I16, o) & 0xFFFF;
                case INT16 -> (int) seg.get(I16, o);
                case UINT32 -> seg.get(I32, o) & 0xFFFFFFFFL;
                case INT32 -> seg.get(I32, o);
                case FLOAT32 -> seg.get(F32, o);
                case BOOL -> seg.get(I8, o) != 0;
                case UINT64, INT64 -> seg.get(I64, o);
                case FLOAT64 -> seg.get(F64, o);
                case STRING, ARRAY -> throw new IllegalStateException(t.toString());
            };
        }
    }
}
