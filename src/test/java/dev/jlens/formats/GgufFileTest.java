package dev.jlens.formats;

import static dev.jlens.formats.GgufBuilder.le;
import static dev.jlens.formats.Rejects.assertRejects;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GgufFileTest {
    @TempDir
    Path dir;

    private Path write(String name, GgufBuilder b) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, b.build());
        return p;
    }

    @Test
    void validFileExposesTensorsAlignedDataAndTypedMetadata() throws IOException {
        Path p = write("ok.gguf", GgufCorruptionTest.valid());
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(3, g.version());
            assertEquals(32, g.alignment());
            assertEquals(0, g.dataOffset() % 32);
            assertEquals(List.of("a.weight", "q.weight", "n.weight"), g.tensors().stream().map(GgufFile.TensorInfo::name).toList());
            GgufFile.TensorInfo q = g.requireTensor("q.weight");
            assertEquals(GgmlType.Q8_0, q.type());
            assertArrayEquals(new long[] {32, 2}, q.ne());
            assertEquals(68, q.nbytes());
            assertEquals(32, q.offset());
            assertEquals(128, g.requireTensor("n.weight").offset());
            assertEquals(68, g.data(q).byteSize());
            assertEquals("toy", g.getString("general.architecture"));
            assertEquals(2L, g.metadata().get("toy.block_count"));
            assertEquals(2, g.getInt("toy.block_count"));
            assertEquals(1e-6f, g.getFloat("toy.eps"));
            assertEquals(List.of("a", "b"), g.getStringList("tokenizer.ggml.tokens"));
        }
    }

    @Test
    void everyScalarAndArrayTypeDecodesToItsJavaType() throws IOException {
        GgufBuilder b = new GgufBuilder();
        b.kv("u8", GgufBuilder.UINT8, new byte[] {(byte) 200});
        b.kv("i8", GgufBuilder.INT8, new byte[] {-5});
        b.kv("u16", GgufBuilder.UINT16, le(2).putShort((short) 60000).array());
        b.kv("i16", GgufBuilder.INT16, le(2).putShort((short) -300).array());
        b.u32("u32", 4000000000L);
        b.i32("i32", -7);
        b.f32("f32", 2.5f);
        b.kv("bool", GgufBuilder.BOOL, new byte[] {1});
        b.string("str", "héllo");
        b.kv("u64", GgufBuilder.UINT64, le(8).putLong(1L << 40).array());
        b.kv("i64", GgufBuilder.INT64, le(8).putLong(-(1L << 40)).array());
        b.kv("f64", GgufBuilder.FLOAT64, le(8).putDouble(0.125).array());
        b.kv("arr.i32", GgufBuilder.ARRAY, le(12 + 12).putInt(GgufBuilder.INT32).putLong(3).putInt(1).putInt(-2).putInt(3).array());
        b.kv("arr.f32", GgufBuilder.ARRAY, le(12 + 8).putInt(GgufBuilder.FLOAT32).putLong(2).putFloat(0.5f).putFloat(-1f).array());
        b.kv("arr.empty", GgufBuilder.ARRAY, le(12).putInt(GgufBuilder.UINT8).putLong(0).array());
        try (GgufFile g = GgufFile.open(write("types.gguf", b))) {
            var m = g.metadata();
            assertEquals(200, m.get("u8"));
            assertEquals(-5, m.get("i8"));
            assertEquals(60000, m.get("u16"));
            assertEquals(-300, m.get("i16"));
            assertEquals(4000000000L, m.get("u32"));
            assertEquals(-7, m.get("i32"));
            assertEquals(2.5f, m.get("f32"));
            assertEquals(true, m.get("bool"));
            assertEquals("héllo", m.get("str"));
            assertEquals(1L << 40, m.get("u64"));
            assertEquals(-(1L << 40), m.get("i64"));
            assertEquals(0.125, m.get("f64"));
            assertEquals(List.of(1, -2, 3), m.get("arr.i32"));
            assertEquals(List.of(0.5f, -1f), m.get("arr.f32"));
            assertEquals(List.of(), m.get("arr.empty"));
            assertEquals(GgufValueType.INT32, g.arrayType("arr.i32").orElseThrow());
            assertEquals(4000000000L, g.getLong("u32"));
            assertEquals(0.125, g.getDouble("f64"));
            assertTrue(g.getBoolean("bool"));
            assertTrue(g.tensors().isEmpty());
        }
    }

    @Test
    void accessorsNameTheMissingOrIllTypedKey() throws IOException {
        Path p = write("acc.gguf", GgufCorruptionTest.valid());
        try (GgufFile g = GgufFile.open(p)) {
            assertRejects(p, "general.name", "missing key", () -> g.getString("general.name"));
            assertRejects(p, "toy.block_count", "expected STRING but the value is UINT32: 2", () -> g.getString("toy.block_count"));
            assertRejects(p, "general.architecture", "expected an integer", () -> g.getLong("general.architecture"));
            assertRejects(p, "toy.eps", "expected BOOL", () -> g.getBoolean("toy.eps"));
            assertRejects(p, "toy.block_count", "ARRAY", () -> g.getList("toy.block_count"));
            assertRejects(p, "missing.weight", "missing tensor", () -> g.requireTensor("missing.weight"));
        }
    }

    @Test
    void customAlignmentIsHonoured() throws IOException {
        GgufBuilder b = GgufCorruptionTest.valid();
        b.alignment = 64;
        b.u32("general.alignment", 64);
        try (GgufFile g = GgufFile.open(write("a64.gguf", b))) {
            assertEquals(64, g.alignment());
            assertEquals(0, g.dataOffset() % 64);
            assertEquals(64, g.requireTensor("q.weight").offset());
            assertEquals(192, g.requireTensor("n.weight").offset());
        }
    }

    private static byte[] f16(float... v) {
        var b = le(v.length * 2);
        for (float f : v) b.putShort(Float.floatToFloat16(f));
        return b.array();
    }

    @Test
    void readF32DequantisesFloatTypesExactly() throws IOException {
        GgufBuilder b = new GgufBuilder();
        var bb = le(12).putFloat(1.5f).putFloat(-2f).putFloat(1e-3f).array();
        b.tensor("f32", GgmlType.F32, bb, 3);
        b.tensor("f16", GgmlType.F16, f16(0.5f, -65504f, 3f), 3);
        b.tensor("bf16", GgmlType.BF16, le(4).putShort((short) 0x3FC0).putShort((short) 0xC000).array(), 2);
        try (GgufFile g = GgufFile.open(write("fl.gguf", b))) {
            assertArrayEquals(new float[] {1.5f, -2f, 1e-3f}, g.readF32(g.requireTensor("f32")));
            assertArrayEquals(new float[] {0.5f, -65504f, 3f}, g.readF32(g.requireTensor("f16")));
            assertArrayEquals(new float[] {1.5f, -2f}, g.readF32(g.requireTensor("bf16")));
        }
    }

    @Test
    void readF32DequantisesQ8_0AndQ4_0LikeGgml() throws IOException {
        // Q8_0: d = 0.5, qs = -16..15 -> qs * 0.5; second block d = -2, qs = 1
        var q8 = le(68);
        q8.putShort(Float.floatToFloat16(0.5f));
        for (int j = 0; j < 32; j++) q8.put((byte) (j - 16));
        q8.putShort(Float.floatToFloat16(-2f));
        for (int j = 0; j < 32; j++) q8.put((byte) 1);
        // Q4_0: d = 0.25, byte j holds low nibble j%16 and high nibble 15 - j%16
        var q4 = le(18);
        q4.putShort(Float.floatToFloat16(0.25f));
        for (int j = 0; j < 16; j++) q4.put((byte) ((j & 0xF) | ((15 - j) << 4)));
        GgufBuilder b = new GgufBuilder();
        b.tensor("q8", GgmlType.Q8_0, q8.array(), 32, 2);
        b.tensor("q4", GgmlType.Q4_0, q4.array(), 32);
        float[] e8 = new float[64];
        for (int j = 0; j < 32; j++) {
            e8[j] = (j - 16) * 0.5f;
            e8[32 + j] = -2f;
        }
        float[] e4 = new float[32];
        for (int j = 0; j < 16; j++) {
            e4[j] = (j - 8) * 0.25f;
            e4[j + 16] = (15 - j - 8) * 0.25f;
        }
        try (GgufFile g = GgufFile.open(write("q.gguf", b))) {
            assertArrayEquals(e8, g.readF32(g.requireTensor("q8")));
            assertArrayEquals(e4, g.readF32(g.requireTensor("q4")));
        }
    }

    @Test
    void readF32RejectsUnsupportedQuantisationByName() throws IOException {
        GgufBuilder b = new GgufBuilder();
        b.tensor("k", GgmlType.Q4_K, new byte[144], 256);
        Path p = write("k.gguf", b);
        try (GgufFile g = GgufFile.open(p)) {
            assertRejects(p, "k", "Q4_K", () -> g.readF32(g.requireTensor("k")));
        }
    }

    @Test
    void fileWithoutTensorsNeedsNoDataPadding() throws IOException {
        GgufBuilder b = new GgufBuilder().string("general.architecture", "none");
        try (GgufFile g = GgufFile.open(write("nt.gguf", b))) {
            assertFalse(g.metadata().isEmpty());
            assertTrue(g.tensors().isEmpty());
        }
    }
}
