package dev.jlens.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class DTypeTensorTest {
    private static MemorySegment bytes(int... b) {
        byte[] a = new byte[b.length];
        for (int i = 0; i < b.length; i++) a[i] = (byte) b[i];
        return MemorySegment.ofArray(a);
    }

    @Test
    void decodesLittleEndianF32F16AndBf16() {
        // 1.5f = 0x3FC00000; f16 1.5 = 0x3E00; bf16 -2.0 = 0xC000
        assertEquals(1.5f, DType.F32.get(bytes(0x00, 0x00, 0xC0, 0x3F), 0));
        assertEquals(1.5f, DType.F16.get(bytes(0x00, 0x3E), 0));
        assertEquals(-2.0f, DType.BF16.get(bytes(0x00, 0xC0), 0));
        assertEquals(65504f, DType.F16.get(bytes(0x00, 0x00, 0xFF, 0x7B), 1));
    }

    @Test
    void numpyDescrAcceptsOnlyLittleEndianFloats() {
        assertEquals(DType.F32, DType.fromNumpy("<f4"));
        assertEquals(DType.F16, DType.fromNumpy("<f2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DType.fromNumpy("|V2")).getMessage().contains("|V2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DType.fromNumpy(">f4")).getMessage().contains("big-endian"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DType.fromNumpy("|O")).getMessage().contains("only f32"));
    }

    @Test
    void safetensorsDtypeNamesTheUnsupportedOne() {
        assertEquals(DType.BF16, DType.fromSafetensors("BF16"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DType.fromSafetensors("I64")).getMessage().contains("I64"));
    }

    @Test
    void tensorRejectsShapeThatDisagreesWithData() {
        MemorySegment eight = MemorySegment.ofArray(new byte[8]);
        assertEquals(2, new Tensor("t", DType.F32, new long[] {2}, eight).elementCount());
        assertThrows(IllegalArgumentException.class, () -> new Tensor("t", DType.F32, new long[] {3}, eight));
        assertThrows(IllegalArgumentException.class, () -> new Tensor("t", DType.F32, new long[] {-2, -1}, eight));
        assertThrows(IllegalArgumentException.class, () -> new Tensor("t", DType.F32, new long[] {1L << 62, 8}, eight));
    }

    @Test
    void tensorDataIsReadOnlyAndShapeIsCopied() {
        long[] shape = {2};
        Tensor t = new Tensor("t", DType.F32, shape, MemorySegment.ofArray(new byte[8]));
        shape[0] = 99;
        assertEquals(2, t.shape()[0]);
        assertTrue(t.data().isReadOnly());
    }
}
