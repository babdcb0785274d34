package dev.jlens.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GgufWriterTest {
    @TempDir Path dir;

    @Test
    void tinyFileHasExactlyTheBytesGgufCppWrites() throws IOException {
        Path f = dir.resolve("t.gguf");
        new GgufWriter().putUint32("a", 7).addTensor("x", new long[] {2}, GgmlType.F32, new float[] {1f, -2f}).write(f);
        String hex = HexFormat.of().formatHex(Files.readAllBytes(f));
        String expected =
                "47475546" + "03000000" + "0100000000000000" + "0100000000000000"   // magic, v3, 1 tensor, 1 kv
                + "0100000000000000" + "61" + "04000000" + "07000000"              // key "a", UINT32, 7
                + "0100000000000000" + "78" + "01000000" + "0200000000000000"      // name "x", 1 dim, ne0 = 2
                + "00000000" + "0000000000000000"                                    // F32, offset 0
                + "00".repeat(96 - 74)                                               // pad header (74 bytes) to 96
                + "0000803f" + "000000c0"                                            // 1.0f, -2.0f
                + "00".repeat(24);                                                   // pad tensor to 32
        assertEquals(expected, hex);
    }

    @Test
    void roundTripKeepsEveryValueTypeTensorTableAndAlignment() throws IOException {
        Path f = dir.resolve("r.gguf");
        GgufWriter w = new GgufWriter()
                .putUint8("u8", 200).putInt8("i8", -5).putUint16("u16", 60000).putInt16("i16", -300)
                .putUint32("u32", 4_000_000_000L).putInt32("i32", -7).putUint64("u64", -1L).putInt64("i64", Long.MIN_VALUE)
                .putFloat32("f32", 1.5f).putFloat64("f64", -2.25).putBool("b", true).putString("s", "héllo ▁")
                .putStringArray("sa", List.of("a", "", "<0x0A>")).putFloat32Array("fa", new float[] {0.5f, -1f})
                .putInt32Array("ia", new int[] {1, 6}).putArray("ba", GgufWriter.ValueType.BOOL, new boolean[] {true, false})
                .alignment(64);
        float[] a = {1f, 2f, 3f, 4f, 5f, 6f};
        float[] h = {0.1f, -65504f, 1e-8f, 3.14159f};
        w.addTensor("a", new long[] {3, 2}, GgmlType.F32, a);
        w.addTensor("h", new long[] {4}, GgmlType.F16, () -> h);
        w.addTensor("bf", new long[] {4}, GgmlType.BF16, sink -> { sink.accept(h, 0, 1); sink.accept(h, 1, 3); });
        w.addRawTensor("q", new long[] {32, 2}, GgmlType.Q8_0, new byte[68]);
        w.write(f);

        GgufTestReader r = new GgufTestReader(f);
        assertEquals(3, r.version);
        assertEquals((byte) 200, r.kv.get("u8"));
        assertEquals((byte) -5, r.kv.get("i8"));
        assertEquals((short) 60000, r.kv.get("u16"));
        assertEquals((short) -300, r.kv.get("i16"));
        assertEquals((int) 4_000_000_000L, r.kv.get("u32"));
        assertEquals(-1L, r.kv.get("u64"));
        assertEquals(Long.MIN_VALUE, r.kv.get("i64"));
        assertEquals(1.5f, r.kv.get("f32"));
        assertEquals(-2.25, r.kv.get("f64"));
        assertEquals(true, r.kv.get("b"));
        assertEquals("héllo ▁", r.kv.get("s"));
        assertEquals(List.of("a", "", "<0x0A>"), r.kv.get("sa"));
        assertEquals(List.of(0.5f, -1f), r.kv.get("fa"));
        assertEquals(List.of(1, 6), r.kv.get("ia"));
        assertEquals(List.of(true, false), r.kv.get("ba"));
        assertEquals(List.of(0, 1, 2, 3, 4, 5, 10, 11, 6, 12, 7, 8, 9, 9, 9, 9, 4),
                List.copyOf(r.kvType.values()));
        assertEquals(8, r.arrayElementType.get("sa"));
        assertEquals(5, r.arrayElementType.get("ia"));

        assertEquals(64, r.alignment);
        assertEquals(0, r.dataStart % 64);
        assertEquals(List.of("a", "h", "bf", "q"), r.tensors.stream().map(GgufTestReader.TensorInfo::name).toList());
        assertArrayEquals(new long[] {3, 2}, r.tensor("a").ne());
        assertEquals(List.of(0L, 64L, 128L, 192L), r.tensors.stream().map(GgufTestReader.TensorInfo::offset).toList());
        assertEquals(List.of(0, 1, 30, 8), r.tensors.stream().map(GgufTestReader.TensorInfo::type).toList());
        assertArrayEquals(a, r.f32("a", 6));
        ByteBuffer hb = ByteBuffer.wrap(r.data("h", 8)).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer bb = ByteBuffer.wrap(r.data("bf", 8)).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : h) {
            assertEquals(Float.float16ToFloat(Float.floatToFloat16(v)), Float.float16ToFloat(hb.getShort()));
            assertEquals(GgufWriter.fp32ToBf16(v), bb.getShort());
        }
        assertEquals(r.dataStart + 192 + 68 + (64 - 68 % 64), r.size(), "last tensor padded to the alignment");
    }

    @Test
    void q8_0KnownAnswerOnHandMadeBlock() {
        float[] x = new float[32];
        for (int i = 0; i < 32; i++) x[i] = i - 16;            // -16..15, amax 16
        x[5] = 0.3f;
        byte[] q = GgufWriter.quantizeQ8_0(x);
        assertEquals(34, q.length);
        float d = 16f / 127;
        short dh = Float.floatToFloat16(d);
        assertEquals((byte) dh, q[0]);
        assertEquals((byte) (dh >> 8), q[1]);
        assertEquals(-127, q[2]);                              // -16 / d
        assertEquals(2, q[2 + 5]);                             // 0.3 * 127/16 = 2.38 -> 2
        assertEquals(0, q[2 + 16]);
        assertEquals(Math.round(15 * 127 / 16f), q[2 + 31]);   // 119.06 -> 119
        assertEquals(119, q[2 + 31]);
    }

    @Test
    void q8_0RoundsHalfwayAwayFromZeroLikeCRoundf() {
        float[] x = new float[32];
        x[0] = 127f;   // d = 1, id = 1
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = -0.5f;
        byte[] q = GgufWriter.quantizeQ8_0(x);
        assertEquals(127, q[2]);
        assertEquals(3, q[3]);
        assertEquals(-3, q[4]);
        assertEquals(-1, q[5]);
        assertEquals(0x3c, q[1] & 0xFF);                      // d = 1.0 in F16 is 0x3C00
        assertEquals(0, q[0]);
    }

    @Test
    void q8_0OfAllZerosHasZeroScaleAndZeros() {
        byte[] q = GgufWriter.quantizeQ8_0(new float[64]);
        assertArrayEquals(new byte[68], q);
    }

    @Test
    void bf16RoundsToNearestEvenAndQuietsNaN() {
        assertEquals((short) 0x3f80, GgufWriter.fp32ToBf16(1f));
        assertEquals((short) 0x3f80, GgufWriter.fp32ToBf16(Float.intBitsToFloat(0x3f808000)));  // tie, even stays
        assertEquals((short) 0x3f82, GgufWriter.fp32ToBf16(Float.intBitsToFloat(0x3f818000)));  // tie, odd rounds up
        assertEquals((short) 0x3f81, GgufWriter.fp32ToBf16(Float.intBitsToFloat(0x3f808001)));
        assertEquals((short) 0x7fc1, GgufWriter.fp32ToBf16(Float.intBitsToFloat(0x7f810000)));  // sNaN forced quiet
    }

    @Test
    void producerGivingTooFewElementsFailsAndLeavesNoFile() {
        Path f = dir.resolve("bad.gguf");
        FormatException e = assertThrows(FormatException.class, () -> new GgufWriter()
                .addTensor("w", new long[] {4, 2}, GgmlType.F32, sink -> sink.accept(new float[5])).write(f));
        assertTrue(e.getMessage().contains("w") && e.getMessage().contains("8"), e.getMessage());
        assertFalse(Files.exists(f));
    }

    @Test
    void rawProducerGivingWrongByteCountIsRejected() {
        Path f = dir.resolve("raw.gguf");
        assertThrows(FormatException.class, () -> new GgufWriter()
                .addRawTensor("q", new long[] {32}, GgmlType.Q4_0, new byte[17]).write(f));
        assertThrows(FormatException.class, () -> new GgufWriter()
                .addRawTensor("q", new long[] {32}, GgmlType.Q4_0, new byte[19]).write(f));
    }

    @Test
    void invalidShapesNamesKeysAndConversionsAreRejected() {
        GgufWriter w = new GgufWriter().putString("k", "v");
        assertThrows(IllegalArgumentException.class, () -> w.putString("k", "again"));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("q", new long[] {33}, GgmlType.Q8_0, new float[33]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("x".repeat(64), new long[] {1}, GgmlType.F32, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("z", new long[] {1, 1, 1, 1, 1}, GgmlType.F32, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("z", new long[] {0}, GgmlType.F32, new float[0]));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("q4", new long[] {32}, GgmlType.Q4_0, new float[32]));
        assertThrows(IllegalArgumentException.class, () -> w.putUint8("u", 256));
        assertThrows(IllegalArgumentException.class, () -> w.alignment(48));
        assertThrows(IllegalArgumentException.class, () -> w.putArray("arr", GgufWriter.ValueType.INT32, new long[1]));
        w.addTensor("ok", new long[] {1}, GgmlType.F32, new float[1]);
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("ok", new long[] {1}, GgmlType.F32, new float[1]));
    }
}
