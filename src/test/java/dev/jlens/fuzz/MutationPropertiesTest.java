package dev.jlens.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.formats.GgufFile;
import dev.jlens.fuzz.ReaderContract.Target;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
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

/**
 * Valid files corrupted by bit flips, truncation, insertion, deletion, header-length fields set to
 * arbitrary values, interesting integers written over arbitrary fields and shuffled data offsets:
 * every reader must still either open the result or throw FormatException, quickly, with views
 * no larger than the file (see {@link ReaderContract}).
 */
class MutationPropertiesTest {
    private static Path dir;
    private static final Map<Target, byte[]> BASES = new EnumMap<>(Target.class);
    private static byte[] gemma2;

    /** Integers at the edges of every bounds check: signs, 16/32/64-bit limits, the 100 MB and 1 MB limits. */
    static final long[] INTERESTING = {0, 1, -1, 7, 8, 31, 32, 33, 0x7F, 0xFF, 0xFFFF, 0x10000, 1 << 20, (1 << 20) + 1, 100L << 20, (100L << 20) + 1,
            Integer.MAX_VALUE, 0xFFFF_FFFFL, 1L << 32, 1L << 40, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE};

    @BeforeContainer
    static void bases() throws IOException {
        dir = Files.createTempDirectory("jlens-mutate");
        for (Target t : Target.values()) BASES.put(t, Samples.base(t, dir));
        gemma2 = Samples.tinyGemma2(dir);
    }

    @AfterContainer
    static void cleanup() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /** One corruption; positions are fractions of the length so they fit any base. */
    sealed interface Mutation {
        byte[] apply(Target t, byte[] b);
    }

    record Flip(double at, int bit) implements Mutation {
        public byte[] apply(Target t, byte[] b) {
            if (b.length == 0) return b;
            byte[] c = b.clone();
            c[index(at, c.length)] ^= (byte) (1 << bit);
            return c;
        }
    }

    record Truncate(double keep) implements Mutation {
        public byte[] apply(Target t, byte[] b) {
            return Arrays.copyOf(b, index(keep, b.length + 1));
        }
    }

    record Insert(double at, byte[] bytes) implements Mutation {
        public byte[] apply(Target t, byte[] b) {
            int i = index(at, b.length + 1);
            return Samples.cat(Arrays.copyOf(b, i), bytes, Arrays.copyOfRange(b, i, b.length));
        }

        @Override
        public String toString() {
            return "Insert[at=" + at + ", bytes=" + Arrays.toString(bytes) + "]";
        }
    }

    record Delete(double at, int len) implements Mutation {
        public byte[] apply(Target t, byte[] b) {
            int i = index(at, b.length + 1);
            int j = Math.min(b.length, i + len);
            return Samples.cat(Arrays.copyOf(b, i), Arrays.copyOfRange(b, j, b.length));
        }
    }

    /** An interesting integer written little-endian over {@code width} bytes at an arbitrary position. */
    record Overwrite(double at, int width, long value) implements Mutation {
        public byte[] apply(Target t, byte[] b) {
            if (b.length < width) return b;
            return put(b.clone(), index(at, b.length - width + 1), width, value);
        }
    }

    /** The format's own length/count field set to {@code value}: npy header_len, safetensors header size, GGUF counts, zip directory size/offset. */
    record HeaderLength(int which, long value) implements Mutation {
        public byte[] apply(Target t, byte[] b) {
            byte[] c = b.clone();
            return switch (t) {
                case NPY -> c.length >= 10 ? put(c, 8, 2, value) : c;
                case SAFETENSORS -> c.length >= 8 ? put(c, 0, 8, value) : c;
                case GGUF -> c.length >= 24 ? put(c, which % 2 == 0 ? 8 : 16, 8, value) : c;
                case NPZ -> c.length >= 22 ? put(c, c.length - 22 + (which % 2 == 0 ? 12 : 16), 4, value) : c;
                default -> c;
            };
        }
    }

    /**
     * The data offsets of a file's tensors permuted among themselves. Locating them needs a file that
     * still parses; after an earlier mutation broke it, this one leaves the bytes alone.
     */
    record ShuffleOffsets(long seed) implements Mutation {
        public byte[] apply(Target t, byte[] b) {
            try {
                return switch (t) {
                    case SAFETENSORS -> shuffleSafetensors(b, new Random(seed));
                    case NPZ -> shuffleNpz(b, new Random(seed));
                    case GGUF -> shuffleGguf(b, new Random(seed));
                    default -> b;
                };
            } catch (IOException | RuntimeException unparsable) {
                return b;
            }
        }
    }

    static int index(double fraction, int n) {
        return Math.min(n - 1, Math.max(0, (int) (fraction * n)));
    }

    static byte[] put(byte[] c, int at, int width, long value) {
        ByteBuffer bb = ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN);
        switch (width) {
            case 1 -> bb.put(at, (byte) value);
            case 2 -> bb.putShort(at, (short) value);
            case 4 -> bb.putInt(at, (int) value);
            default -> bb.putLong(at, value);
        }
        return c;
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    static byte[] shuffleSafetensors(byte[] b, Random r) throws IOException {
        // an earlier mutation may have broken the header: then there is nothing to shuffle
        if (b.length < 8) return b;
        long declared = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        if (declared < 2 || declared > b.length - 8) return b;
        int n = (int) declared;
        ObjectNode root;
        try {
            if (!(JSON.readTree(Arrays.copyOfRange(b, 8, 8 + n)) instanceof ObjectNode o)) return b;
            root = o;
        } catch (IOException e) {
            return b;
        }
        for (var e : root.properties()) {
            if (!e.getKey().equals("__metadata__") && !(e.getValue().get("data_offsets") instanceof ArrayNode)) return b;
        }
        List<ArrayNode> offs = new ArrayList<>();
        root.properties().forEach(e -> { if (!e.getKey().equals("__metadata__")) offs.add(((ArrayNode) e.getValue().get("data_offsets")).deepCopy()); });
        List<ArrayNode> shuffled = new ArrayList<>(offs);
        Collections.shuffle(shuffled, r);
        int[] i = {0};
        root.properties().forEach(e -> { if (!e.getKey().equals("__metadata__")) ((ObjectNode) e.getValue()).set("data_offsets", shuffled.get(i[0]++)); });
        byte[] j = JSON.writeValueAsBytes(root);
        if (j.length > n) return b;
        byte[] padded = Arrays.copyOf(j, n);
        Arrays.fill(padded, j.length, n, (byte) ' ');
        byte[] c = b.clone();
        System.arraycopy(padded, 0, c, 8, n);
        return c;
    }

    static byte[] shuffleNpz(byte[] b, Random r) {
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        List<Integer> at = new ArrayList<>();
        for (int p = 0; p + 46 <= b.length; p++) if (bb.getInt(p) == 0x02014b50) at.add(p + 42);
        List<Integer> values = new ArrayList<>();
        for (int p : at) values.add(bb.getInt(p));
        Collections.shuffle(values, r);
        byte[] c = b.clone();
        for (int k = 0; k < at.size(); k++) put(c, at.get(k), 4, values.get(k));
        return c;
    }

    /** Finds each tensor info by its length-prefixed name and permutes the offset fields. */
    static byte[] shuffleGguf(byte[] b, Random r) throws IOException {
        Path p = dir.resolve("shuffle.gguf");
        Files.write(p, b);
        List<Integer> at = new ArrayList<>();
        try (GgufFile g = GgufFile.open(p)) {
            for (GgufFile.TensorInfo t : g.tensors()) {
                byte[] name = t.name().getBytes(StandardCharsets.UTF_8);
                byte[] key = Samples.cat(Samples.le(8).putLong(name.length).array(), name);
                int pos = lastIndexOf(b, key);
                at.add(pos + key.length + 4 + 8 * t.ne().length + 4);
            }
        }
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        List<Long> values = new ArrayList<>();
        for (int q : at) values.add(bb.getLong(q));
        Collections.shuffle(values, r);
        byte[] c = b.clone();
        for (int k = 0; k < at.size(); k++) put(c, at.get(k), 8, values.get(k));
        return c;
    }

    private static int lastIndexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = hay.length - needle.length; i >= 0; i--) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new IllegalStateException("tensor name not found");
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        Arbitrary<Double> at = Arbitraries.doubles().between(0, 1);
        Arbitrary<Long> interesting = Arbitraries.oneOf(Arbitraries.of(Arrays.stream(INTERESTING).boxed().toList()), Arbitraries.longs());
        Arbitrary<Mutation> one = Arbitraries.oneOf(
                Combinators.combine(at, Arbitraries.integers().between(0, 7)).as(Flip::new),
                at.map(Truncate::new),
                Combinators.combine(at, Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(16)).as(Insert::new),
                Combinators.combine(at, Arbitraries.integers().between(1, 64)).as(Delete::new),
                Combinators.combine(at, Arbitraries.of(1, 2, 4, 8), interesting).as(Overwrite::new),
                Combinators.combine(Arbitraries.integers().between(0, 1), interesting).as(HeaderLength::new),
                Arbitraries.longs().map(ShuffleOffsets::new));
        return one.list().ofMinSize(1).ofMaxSize(4);
    }

    private static void check(Target t, byte[] base, List<Mutation> ms) throws IOException {
        byte[] b = base;
        for (Mutation m : ms) b = m.apply(t, b);
        ReaderContract.check(t, b, dir);
    }

    @Property(tries = 300)
    void mutatedNpyOpensOrFailsWithFormatException(@ForAll("mutations") List<Mutation> ms) throws IOException {
        check(Target.NPY, BASES.get(Target.NPY), ms);
    }

    @Property(tries = 300)
    void mutatedNpzOpensOrFailsWithFormatException(@ForAll("mutations") List<Mutation> ms) throws IOException {
        check(Target.NPZ, BASES.get(Target.NPZ), ms);
    }

    @Property(tries = 200)
    void mutatedSafetensorsOpensOrFailsWithFormatException(@ForAll("mutations") List<Mutation> ms) throws IOException {
        check(Target.SAFETENSORS, BASES.get(Target.SAFETENSORS), ms);
    }

    @Property(tries = 200)
    void mutatedGgufOpensOrFailsWithFormatException(@ForAll("mutations") List<Mutation> ms) throws IOException {
        check(Target.GGUF, BASES.get(Target.GGUF), ms);
    }

    /** The gemma2 file drives requireGemma2() past its first check into hyper-parameters and tensor shapes. */
    @Property(tries = 100)
    void mutatedGemma2OpensOrFailsWithFormatException(@ForAll("mutations") List<Mutation> ms) throws IOException {
        check(Target.GGUF, gemma2, ms);
    }

    @Property(tries = 200)
    void mutatedPromptFilesLoadOrFailWithFormatException(@ForAll("mutations") List<Mutation> ms) throws IOException {
        check(Target.PROMPTS_JSONL, BASES.get(Target.PROMPTS_JSONL), ms);
        check(Target.PROMPTS_TXT, BASES.get(Target.PROMPTS_TXT), ms);
    }

    @Property(tries = 200)
    void mutatedSaeConfigParsesOrFailsWithFormatException(@ForAll("mutations") List<Mutation> ms) throws IOException {
        check(Target.SAE_CONFIG, BASES.get(Target.SAE_CONFIG), ms);
    }
}
