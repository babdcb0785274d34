package dev.jlens.formats;

import static dev.jlens.formats.NpyTest.floats;
import static dev.jlens.formats.Rejects.assertRejects;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    private Path file(String name, String json, byte[] data) throws IOException {
        return file(name, json.getBytes(StandardCharsets.UTF_8).length, json, data);
    }

    private Path file(String name, long declared, String json, byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(declared).array());
        out.writeBytes(json.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(data);
        Path p = dir.resolve(name);
        Files.write(p, out.toByteArray());
        return p;
    }

    private static SafetensorsFile open(Path p) throws IOException {
        return Safetensors.open(p, Arena.ofAuto());
    }

    @Test
    void readsReferenceLayoutWithMetadata() throws IOException {
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}";
        byte[] data = {0, 0, (byte) 0x80, 0x3F, 0, 0, 0, 0x40, (byte) 0x80, 0x3F, 0, (byte) 0xC0};
        try (SafetensorsFile f = open(file("ref.safetensors", json, data))) {
            assertEquals(Map.of("format", "pt"), f.metadata());
            assertEquals(List.of("a", "b"), List.copyOf(f.tensors().keySet()));
            assertArrayEquals(new float[] {1, 2}, f.get("a").toFloatArray());
            assertArrayEquals(new float[] {1, -2}, f.get("b").toFloatArray());
        }
    }

    @Test
    void writerRoundTripsAndPadsHeaderToEightBytes() throws IOException {
        Tensor a = new Tensor("W_enc", DType.F32, new long[] {2, 3}, MemorySegment.ofArray(floats(1, 2, 3, 4, 5, 6)));
        Tensor b = new Tensor("b", DType.F16, new long[] {1}, MemorySegment.ofArray(new byte[] {0, 0x3C}));
        Tensor c = new Tensor("c", DType.BF16, new long[] {}, MemorySegment.ofArray(new byte[] {(byte) 0x80, 0x3F}));
        Path p = dir.resolve("w.safetensors");
        Safetensors.write(p, List.of(a, b, c), Map.of("k", "v"));
        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        String json = header.stripTrailing();
        assertEquals(true, json.endsWith("}"), header);
        assertEquals(" ".repeat(header.length() - json.length()), header.substring(json.length()), "padding is spaces only");
        try (SafetensorsFile f = Safetensors.open(p)) {
            assertEquals(Map.of("k", "v"), f.metadata());
            assertEquals(a, f.get("W_enc"));
            assertEquals(b, f.get("b"));
            assertEquals(1f, f.get("c").get(0));
        }
    }

    @Test
    void writerRejectsDuplicateNames() {
        Tensor a = new Tensor("a", DType.F32, new long[] {1}, MemorySegment.ofArray(floats(1)));
        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(dir.resolve("d.safetensors"), List.of(a, a), Map.of()));
    }

    private static final String A8 = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    @Test
    void headerSizeOverLimitIsRejected() throws IOException {
        Path p = file("big.safetensors", 200L << 20, "{" + A8 + "}", new byte[8]);
        assertRejects(p, "header_size", "209715200", () -> open(p));
    }

    @Test
    void headerSizePastEndOfFileIsRejected() throws IOException {
        Path p = file("eof.safetensors", 5000, "{" + A8 + "}", new byte[8]);
        assertRejects(p, "header_size", "5000", () -> open(p));
    }

    @Test
    void fileShorterThanHeaderSizeIsRejected() throws IOException {
        Path p = dir.resolve("tiny.safetensors");
        Files.write(p, new byte[] {1, 2, 3});
        assertRejects(p, "header_size", "3 bytes", () -> open(p));
    }

    @Test
    void nonJsonAndNonObjectHeadersAreRejected() throws IOException {
        Path p = file("nj.safetensors", "{\"a\": nope}", new byte[0]);
        assertRejects(p, "header", "invalid JSON", () -> open(p));
        Path q = file("arr.safetensors", "[1,2]", new byte[0]);
        assertRejects(q, "header", "'{'", () -> open(q));
    }

    @Test
    void duplicateKeysAreRejected() throws IOException {
        Path p = file("dup.safetensors", "{" + A8 + "," + A8 + "}", new byte[8]);
        assertRejects(p, "header", "Duplicate field 'a'", () -> open(p));
    }

    @Test
    void missingFieldsAreRejectedByName() throws IOException {
        Path p = file("nd.safetensors", "{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]);
        assertRejects(p, "a.dtype", "missing", () -> open(p));
        Path q = file("ns.safetensors", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", new byte[8]);
        assertRejects(q, "a.shape", "missing", () -> open(q));
        Path r = file("no.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", new byte[8]);
        assertRejects(r, "a.data_offsets", "missing", () -> open(r));
    }

    @Test
    void unsupportedDtypeIsNamed() throws IOException {
        Path p = file("i64.safetensors", "{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]);
        assertRejects(p, "a.dtype", "I64", () -> open(p));
    }

    @Test
    void shapeThatDisagreesWithOffsetsIsRejected() throws IOException {
        Path p = file("sm.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
        assertRejects(p, "a.data_offsets", "size mismatch", () -> open(p));
    }

    @Test
    void overlappingTensorsAreRejected() throws IOException {
        Path p = file("ov.safetensors", "{" + A8 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]);
        assertRejects(p, "b.data_offsets", "overlaps", () -> open(p));
    }

    @Test
    void gapBetweenTensorsIsRejected() throws IOException {
        Path p = file("gap.safetensors", "{" + A8 + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", new byte[16]);
        assertRejects(p, "b.data_offsets", "gap", () -> open(p));
    }

    @Test
    void trailingBytesAfterLastTensorAreRejected() throws IOException {
        Path p = file("tr.safetensors", "{" + A8 + "}", new byte[9]);
        assertRejects(p, "data", "trailing", () -> open(p));
    }

    @Test
    void truncatedDataIsRejected() throws IOException {
        Path p = file("tc.safetensors", "{" + A8 + "}", new byte[7]);
        assertRejects(p, "data", "truncated", () -> open(p));
    }

    @Test
    void nonStringMetadataIsRejected() throws IOException {
        Path p = file("md.safetensors", "{\"__metadata__\":{\"n\":3}," + A8 + "}", new byte[8]);
        assertRejects(p, "__metadata__.n", "3", () -> open(p));
    }

    @Test
    void negativeOrFractionalShapeIsRejected() throws IOException {
        Path p = file("neg.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", new byte[8]);
        assertRejects(p, "a.shape", "-2", () -> open(p));
        Path q = file("fr.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", new byte[8]);
        assertRejects(q, "a.shape", "2.5", () -> open(q));
    }
}
