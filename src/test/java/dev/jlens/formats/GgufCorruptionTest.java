package dev.jlens.formats;

import static dev.jlens.formats.GgufBuilder.le;
import static dev.jlens.formats.GgufBuilder.str;
import static dev.jlens.formats.Rejects.assertRejects;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The corruption kinds of llama.cpp's tests/test-gguf.cpp (and a few more), each a FormatException naming file and field. */
class GgufCorruptionTest {
    @TempDir
    static Path dir;

    /** A small valid file: a few KVs and three tensors of different types. */
    static GgufBuilder valid() {
        GgufBuilder b = new GgufBuilder();
        b.string("general.architecture", "toy").u32("toy.block_count", 2).f32("toy.eps", 1e-6f).strings("tokenizer.ggml.tokens", "a", "b");
        b.zeros("a.weight", 4, 2);
        b.tensor("q.weight", GgmlType.Q8_0, new byte[34 * 2], 32, 2);
        b.zeros("n.weight", 3);
        return b;
    }

    private static Arguments c(String kind, Consumer<GgufBuilder> corrupt, String field, String value) {
        return Arguments.of(kind, corrupt, field, value);
    }

    static Stream<Arguments> corruptions() {
        return Stream.of(
                c("HEADER_BAD_MAGIC", b -> b.magic = 0x58554747, "magic", "0x58554747"),
                c("HEADER_BAD_VERSION_0", b -> b.version = 0, "version", "0"),
                c("HEADER_BAD_VERSION_1", b -> b.version = 1, "version", "version 1"),
                c("HEADER_BAD_VERSION_FUTURE", b -> b.version = 4, "version", "4"),
                c("HEADER_BAD_VERSION_BIG_ENDIAN", b -> b.version = 0x03000000, "version", "big-endian"),
                c("HEADER_BAD_N_TENSORS", b -> b.nTensors = Long.MAX_VALUE / 2, "n_tensors", Long.toString(Long.MAX_VALUE / 2)),
                c("HEADER_NEGATIVE_N_TENSORS", b -> b.nTensors = -1L, "n_tensors", "-1"),
                c("HEADER_BAD_N_KV", b -> b.nKv = 1L << 40, "n_kv", "1099511627776"),
                // the fifth "KV" swallows the first tensor info, so the misparse surfaces at the first tensor name
                c("HEADER_N_KV_TOO_MANY_FOR_DATA", b -> b.nKv = 5L, "tensor[0].name", "string length"),
                c("KV_BAD_KEY_SIZE", b -> b.kvs.set(0, GgufBuilder.cat(le(8).putLong(-1).array(), new byte[4])), "kv[0].key", "18446744073709551615"),
                c("KV_KEY_SIZE_PAST_EOF", b -> b.kvs.set(0, GgufBuilder.cat(le(8).putLong(1 << 20).array(), new byte[4])), "kv[0].key", "1048576"),
                c("KV_EMPTY_KEY", b -> b.kvs.set(0, GgufBuilder.cat(str(""), le(4).putInt(4).array(), new byte[4])), "kv[0].key", "empty"),
                c("KV_BAD_TYPE", b -> b.kv("bad.type", 13, new byte[4]), "bad.type", "invalid GGUF value type 13"),
                c("KV_BAD_ARRAY_TYPE", b -> b.kv("bad.arr", GgufBuilder.ARRAY, le(12).putInt(42).putLong(1).array()), "bad.arr", "element type 42"),
                c("KV_ARRAY_OF_ARRAYS", b -> b.kv("nested", GgufBuilder.ARRAY, le(12).putInt(GgufBuilder.ARRAY).putLong(1).array()), "nested", "arrays of arrays"),
                c("KV_ARRAY_LENGTH_PAST_EOF", b -> b.kv("big.arr", GgufBuilder.ARRAY, le(12).putInt(GgufBuilder.UINT32).putLong(1L << 60).array()), "big.arr", "array length 1152921504606846976"),
                c("KV_STRING_ARRAY_LENGTH_PAST_EOF", b -> b.kv("s.arr", GgufBuilder.ARRAY, le(12).putInt(GgufBuilder.STRING).putLong(1L << 40).array()), "s.arr", "1099511627776"),
                c("KV_BAD_BOOL", b -> b.kv("flag", GgufBuilder.BOOL, new byte[] {7}), "flag", "BOOL value 7"),
                c("KV_BAD_UTF8", b -> b.kv("s", GgufBuilder.STRING, GgufBuilder.cat(le(8).putLong(2).array(), new byte[] {(byte) 0xC3, 0x28})), "s", "UTF-8"),
                c("KV_DUPLICATE_KEY", b -> b.u32("toy.block_count", 3), "toy.block_count", "duplicate key"),
                c("KV_BAD_ALIGN", b -> b.u32("general.alignment", 48), "general.alignment", "48"),
                c("KV_ZERO_ALIGN", b -> b.u32("general.alignment", 0), "general.alignment", "0 is not a power of two"),
                c("KV_WRONG_TYPE_ALIGN", b -> b.kv("general.alignment", GgufBuilder.UINT64, le(8).putLong(32).array()), "general.alignment", "UINT32"),
                c("TENSORS_BAD_NAME_SIZE", b -> b.tensors.get(0).name = "x".repeat(64), "tensor[0].name", "too long"),
                c("TENSORS_BAD_N_DIMS", b -> { var t = b.tensors.get(0); t.ne = new long[] {4, 2, 1, 1, 1}; }, "a.weight.n_dims", "more than 4 dims: 5"),
                c("TENSORS_HUGE_N_DIMS", b -> b.tensors.get(0).nDims = -1, "a.weight.n_dims", "4294967295"),
                c("TENSORS_ZERO_N_DIMS", b -> { var t = b.tensors.get(2); t.ne = new long[] {}; }, "n.weight.n_dims", "0"),
                c("TENSORS_BAD_SHAPE", b -> b.tensors.get(0).ne = new long[] {4, -1}, "a.weight.ne[1]", "-1"),
                c("TENSORS_ZERO_DIM", b -> b.tensors.get(0).ne = new long[] {0, 2}, "a.weight.ne[0]", "0"),
                c("TENSORS_NE_TOO_BIG", b -> b.tensors.get(0).ne = new long[] {1L << 40, 1L << 40}, "a.weight.ne", "overflows"),
                c("TENSORS_NBYTES_TOO_BIG", b -> b.tensors.get(0).ne = new long[] {1L << 31, 1L << 31}, "a.weight.ne", "byte size"),
                c("TENSORS_BAD_TYPE", b -> b.tensors.get(0).type = 4, "a.weight.type", "unknown ggml type 4"),
                c("TENSORS_TYPE_OUT_OF_RANGE", b -> b.tensors.get(0).type = 99, "a.weight.type", "99"),
                c("TENSORS_ROW_NOT_BLOCK_MULTIPLE", b -> b.tensors.get(1).ne = new long[] {33, 2}, "q.weight.ne[0]", "33"),
                c("TENSORS_BAD_OFFSET", b -> b.tensors.get(1).offset = 64L, "q.weight.offset", "gap"),
                c("TENSORS_OVERLAP", b -> b.tensors.get(1).offset = 0L, "q.weight.offset", "overlaps tensor 'a.weight'"),
                c("TENSORS_OFFSET_PAST_EOF", b -> b.tensors.get(2).offset = 1L << 50, "n.weight.offset", "1125899906842624"),
                c("TENSORS_DUPLICATE_NAME", b -> b.tensors.get(1).name = "a.weight", "a.weight", "duplicate tensor name"),
                c("TENSORS_BAD_ALIGN", b -> b.tensors.get(1).offset = 33L, "q.weight.offset", "alignment 32"),
                c("TENSORS_INCONSISTENT_ALIGN", b -> b.u32("general.alignment", 64), "q.weight.offset", "alignment 64"),
                c("DATA_NOT_ENOUGH_DATA", b -> b.tensors.get(2).data = new byte[8], "n.weight", "not enough data"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corruptions")
    void corruptionIsRejectedNamingFileAndField(String kind, Consumer<GgufBuilder> corrupt, String field, String value) throws IOException {
        GgufBuilder b = valid();
        corrupt.accept(b);
        Path p = dir.resolve(kind + ".gguf");
        Files.write(p, b.build());
        assertRejects(p, field, value, () -> {
            try (GgufFile g = GgufFile.open(p)) {
                throw new AssertionError(kind + " was accepted");
            }
        });
    }

    static byte[] validBytes = valid().build();

    static IntStream prefixLengths() {
        return IntStream.range(0, validBytes.length);
    }

    @ParameterizedTest(name = "truncated to {0} bytes")
    @MethodSource("prefixLengths")
    void everyTruncationIsRejected(int length) throws IOException {
        Path p = dir.resolve("cut" + length + ".gguf");
        Files.write(p, Arrays.copyOf(validBytes, length));
        assertRejects(p, "", "", () -> {
            try (GgufFile g = GgufFile.open(p)) {
                throw new AssertionError("truncation to " + length + " of " + validBytes.length + " bytes was accepted");
            }
        });
        Files.delete(p);
    }
}
