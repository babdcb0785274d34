package dev.jlens.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jlens.formats.DType;
import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufFile;
import dev.jlens.formats.GgufWriter;
import dev.jlens.formats.Npy;
import dev.jlens.formats.NpyWriter;
import dev.jlens.formats.Npz;
import dev.jlens.formats.NpzFile;
import dev.jlens.formats.NpzWriter;
import dev.jlens.formats.Safetensors;
import dev.jlens.formats.SafetensorsFile;
import dev.jlens.formats.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** Valid files of arbitrary shapes, dtypes and metadata, written by the project's writers, read back exactly. */
class RoundTripPropertiesTest {
    private static Path dir;

    @BeforeContainer
    static void scratch() throws IOException {
        dir = Files.createTempDirectory("jlens-roundtrip");
    }

    @AfterContainer
    static void cleanup() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /** A tensor spec; the bytes come from the seed so shrinking keeps shapes and data consistent. */
    record Spec(String name, DType dtype, long[] shape, long seed) {
        Tensor tensor() {
            long n = 1;
            for (long d : shape) n *= d;
            byte[] b = new byte[(int) (n * dtype.size())];
            new Random(seed).nextBytes(b);
            return new Tensor(name, dtype, shape, MemorySegment.ofArray(b));
        }

        @Override
        public String toString() {
            return name + " " + dtype + " " + java.util.Arrays.toString(shape);
        }
    }

    static Arbitrary<long[]> shapes() {
        return Arbitraries.longs().between(0, 5).array(long[].class).ofMaxSize(4);
    }

    static Arbitrary<Spec> specs(Arbitrary<DType> dtypes, Arbitrary<String> names) {
        return Combinators.combine(names, dtypes, shapes(), Arbitraries.longs()).as(Spec::new);
    }

    static Arbitrary<String> names() {
        return Arbitraries.strings().withCharRange('a', 'z').withChars('_', '.', '0', '9', '\u00e9', '\u65e5', ' ', '"', '\\').ofMinLength(1).ofMaxLength(12);
    }

    @Provide
    Arbitrary<Spec> npySpecs() {
        return specs(Arbitraries.of(DType.F32, DType.F16), Arbitraries.just("t"));
    }

    @Property(tries = 150)
    void npyRoundTripsEveryShapeAndDtype(@ForAll("npySpecs") Spec spec) throws IOException {
        Tensor t = spec.tensor();
        Path p = dir.resolve("t.npy");
        NpyWriter.write(p, t.dtype(), t.shape(), t.data());
        try (Arena arena = Arena.ofConfined()) {
            assertEquals(t, Npy.read(p, arena));
        }
    }

    @Provide
    Arbitrary<List<Spec>> npzMembers() {
        Arbitrary<String> memberNames = Arbitraries.strings().withCharRange('a', 'z').withChars('_', '0').ofMinLength(1).ofMaxLength(8);
        return specs(Arbitraries.of(DType.F32, DType.F16), memberNames).list().ofMaxSize(4).uniqueElements(Spec::name);
    }

    @Property(tries = 100)
    void npzRoundTripsMembersInOrder(@ForAll("npzMembers") List<Spec> members) throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (Spec s : members) m.put(s.name(), s.tensor());
        Path p = dir.resolve("t.npz");
        NpzWriter.write(p, m);
        try (Arena arena = Arena.ofConfined(); NpzFile f = Npz.open(p, arena)) {
            assertEquals(new ArrayList<>(m.keySet()), new ArrayList<>(f.members().keySet()));
            for (String k : m.keySet()) assertEquals(m.get(k), f.members().get(k));
        }
    }

    @Provide
    Arbitrary<List<Spec>> safetensorsTensors() {
        return specs(Arbitraries.of(DType.values()), names().filter(n -> !n.equals("__metadata__"))).list().ofMaxSize(5).uniqueElements(Spec::name);
    }

    @Provide
    Arbitrary<Map<String, String>> metadata() {
        return Arbitraries.maps(names(), Arbitraries.strings().ofMaxLength(20).filter(RoundTripPropertiesTest::noSurrogates)).ofMaxSize(3);
    }

    static boolean noSurrogates(String s) {
        return s.chars().noneMatch(c -> Character.isSurrogate((char) c));
    }

    @Property(tries = 60)
    void safetensorsRoundTripsTensorsAndMetadata(@ForAll("safetensorsTensors") List<Spec> specs, @ForAll("metadata") Map<String, String> meta) throws IOException {
        List<Tensor> ts = specs.stream().map(Spec::tensor).toList();
        Path p = dir.resolve("t.safetensors");
        Safetensors.write(p, ts, meta);
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertEquals(meta, f.metadata());
            assertEquals(ts.size(), f.tensors().size());
            for (Tensor t : ts) assertEquals(t, f.tensors().get(t.name()));
        }
    }

    /** One KV: a kind (0..12 scalar types by gguf id, 13.. arrays) whose value derives from seed. */
    record Kv(String key, int kind, long seed) {}

    /** A raw tensor of a block type with {@code blocks} blocks per row. */
    record RawTensor(String name, GgmlType type, int blocks, long[] rows, long seed) {
        long[] ne() {
            long[] ne = new long[1 + rows.length];
            ne[0] = (long) blocks * type.blockSize;
            System.arraycopy(rows, 0, ne, 1, rows.length);
            return ne;
        }

        byte[] bytes() {
            long n = type.rowBytes(ne()[0]);
            for (long r : rows) n *= r;
            byte[] b = new byte[(int) n];
            new Random(seed).nextBytes(b);
            return b;
        }
    }

    @Provide
    Arbitrary<List<Kv>> kvs() {
        Arbitrary<String> keys = names().filter(k -> !k.equals(GgufWriter.ALIGNMENT_KEY));
        return Combinators.combine(keys, Arbitraries.integers().between(0, 16), Arbitraries.longs()).as(Kv::new)
                .filter(kv -> kv.kind() != 9).list().ofMaxSize(8).uniqueElements(Kv::key);
    }

    @Provide
    Arbitrary<List<RawTensor>> rawTensors() {
        Arbitrary<String> tnames = Arbitraries.strings().withCharRange('a', 'z').withChars('.', '_').ofMinLength(1).ofMaxLength(20);
        Arbitrary<GgmlType> types = Arbitraries.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.I8, GgmlType.I32, GgmlType.Q4_K);
        Arbitrary<long[]> rows = Arbitraries.longs().between(1, 3).array(long[].class).ofMaxSize(3);
        return Combinators.combine(tnames, types, Arbitraries.integers().between(1, 3), rows, Arbitraries.longs()).as(RawTensor::new)
                .list().ofMaxSize(4).uniqueElements(RawTensor::name);
    }

    /** The value the writer stores for {@code kv}, and the value the reader must hand back (per GgufFile.metadata()). */
    private static Object[] kvValue(GgufWriter w, Kv kv) {
        Random r = new Random(kv.seed());
        String k = kv.key();
        return switch (kv.kind()) {
            case 0 -> { int v = r.nextInt(256); w.putUint8(k, v); yield new Object[] {v}; }
            case 1 -> { int v = r.nextInt(256) - 128; w.putInt8(k, v); yield new Object[] {v}; }
            case 2 -> { int v = r.nextInt(65536); w.putUint16(k, v); yield new Object[] {v}; }
            case 3 -> { int v = r.nextInt(65536) - 32768; w.putInt16(k, v); yield new Object[] {v}; }
            case 4 -> { long v = r.nextLong() & 0xFFFFFFFFL; w.putUint32(k, v); yield new Object[] {v}; }
            case 5 -> { int v = r.nextInt(); w.putInt32(k, v); yield new Object[] {v}; }
            case 6 -> { float v = Float.intBitsToFloat(r.nextInt()); w.putFloat32(k, v); yield new Object[] {v}; }
            case 7 -> { boolean v = r.nextBoolean(); w.putBool(k, v); yield new Object[] {v}; }
            case 8 -> { String v = "s" + r.nextInt() + "\u00e9\u65e5"; w.putString(k, v); yield new Object[] {v}; }
            case 10 -> { long v = r.nextLong() & Long.MAX_VALUE; w.putUint64(k, v); yield new Object[] {v}; }
            case 11 -> { long v = r.nextLong(); w.putInt64(k, v); yield new Object[] {v}; }
            case 12 -> { double v = Double.longBitsToDouble(r.nextLong()); w.putFloat64(k, v); yield new Object[] {v}; }
            case 13 -> {
                List<String> v = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) v.add("t" + r.nextInt(1000));
                w.putStringArray(k, v);
                yield new Object[] {v};
            }
            case 14 -> {
                int[] a = r.ints(r.nextInt(5)).toArray();
                w.putInt32Array(k, a);
                yield new Object[] {java.util.Arrays.stream(a).boxed().toList()};
            }
            case 15 -> {
                float[] a = new float[r.nextInt(5)];
                for (int i = 0; i < a.length; i++) a[i] = r.nextFloat();
                w.putFloat32Array(k, a);
                List<Object> l = new ArrayList<>();
                for (float f : a) l.add(f);
                yield new Object[] {l};
            }
            default -> {
                boolean[] a = new boolean[r.nextInt(5)];
                for (int i = 0; i < a.length; i++) a[i] = r.nextBoolean();
                w.putArray(k, GgufWriter.ValueType.BOOL, a);
                List<Object> l = new ArrayList<>();
                for (boolean b : a) l.add(b);
                yield new Object[] {l};
            }
        };
    }

    @Property(tries = 100)
    void ggufRoundTripsKvsAndRawTensorsAtEveryAlignment(@ForAll("kvs") List<Kv> kvs, @ForAll("rawTensors") List<RawTensor> tensors,
                                                        @ForAll("alignments") int alignment) throws IOException {
        GgufWriter w = new GgufWriter().alignment(alignment);
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put(GgufWriter.ALIGNMENT_KEY, (long) alignment);
        for (Kv kv : kvs) expected.put(kv.key(), kvValue(w, kv)[0]);
        for (RawTensor t : tensors) w.addRawTensor(t.name(), t.ne(), t.type(), t.bytes());
        Path p = dir.resolve("t.gguf");
        w.write(p);
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(alignment, g.alignment());
            assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(g.metadata().keySet()));
            for (Map.Entry<String, Object> e : expected.entrySet()) {
                Object got = g.metadata().get(e.getKey());
                assertEquals(e.getValue(), got instanceof List<?> l ? new ArrayList<>(l) : got, e.getKey());
            }
            assertEquals(tensors.size(), g.tensors().size());
            for (int i = 0; i < tensors.size(); i++) {
                RawTensor t = tensors.get(i);
                GgufFile.TensorInfo ti = g.tensors().get(i);
                assertEquals(t.name(), ti.name());
                assertEquals(t.type(), ti.type());
                assertArrayEquals(t.ne(), ti.ne());
                assertEquals(0, ti.offset() % alignment, "aligned");
                assertArrayEquals(t.bytes(), g.data(ti).toArray(ValueLayout.JAVA_BYTE), t.name());
            }
        }
    }

    @Provide
    Arbitrary<Integer> alignments() {
        return Arbitraries.of(1, 8, 32, 64, 256);
    }
}
