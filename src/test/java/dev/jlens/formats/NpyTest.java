package dev.jlens.formats;

import static dev.jlens.formats.Rejects.assertRejects;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path dir;

    /** The exact 128-byte preamble numpy 2.4 np.save writes for float32 (2, 3) (checked by hand with numpy). */
    static byte[] numpyHeader23() {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        String h = dict + " ".repeat(118 - dict.length() - 1) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0});
        out.writeBytes(h.getBytes(StandardCharsets.ISO_8859_1));
        return out.toByteArray();
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    /** npy bytes with an arbitrary dict, padded like numpy, with the given version. */
    static byte[] npy(int major, String dict, byte[] data) {
        int pre = major == 1 ? 10 : 12;
        int len = dict.length() + 1;
        int pad = (64 - (pre + len) % 64) % 64;
        byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(pre + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(Npy.MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) h.length); else b.putInt(h.length);
        return b.put(h).put(data).array();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private Tensor read(Path p) throws IOException {
        return Npy.read(p, Arena.ofAuto());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void readsTheExactBytesNumpyWritesForFloat32Matrix() throws IOException {
        Path p = file("x.npy", concat(numpyHeader23(), floats(1, 2, 3, 4, 5, 6)));
        Tensor t = read(p);
        assertEquals("x", t.name());
        assertEquals(DType.F32, t.dtype());
        assertArrayEquals(new long[] {2, 3}, t.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloatArray());
        assertTrue(t.data().isMapped(), "data must be a view of the mapped file, not a heap copy");
    }

    @Test
    void writerProducesNumpyIdenticalBytes() throws IOException {
        Path p = dir.resolve("w.npy");
        byte[] data = floats(1, 2, 3, 4, 5, 6);
        NpyWriter.write(p, DType.F32, new long[] {2, 3}, MemorySegment.ofArray(data));
        assertArrayEquals(concat(numpyHeader23(), data), Files.readAllBytes(p));
    }

    @Test
    void readsOneDimensionalFloat16AndScalarShapes() throws IOException {
        byte[] f16 = {0x00, 0x3C, 0x00, 0x40, 0x00, 0x42}; // 1, 2, 3
        Tensor t = read(file("h.npy", npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", f16)));
        assertArrayEquals(new long[] {3}, t.shape());
        assertArrayEquals(new float[] {1, 2, 3}, t.toFloatArray());
        Tensor s = read(file("s.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", floats(7))));
        assertEquals(0, s.rank());
        assertEquals(7f, s.get(0));
    }

    @Test
    void readsVersion2And3HeadersAndDoubleQuotedKeys() throws IOException {
        Tensor v2 = read(file("v2.npy", npy(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2)}", floats(8, 9))));
        assertArrayEquals(new float[] {8, 9}, v2.toFloatArray());
        Tensor v3 = read(file("v3.npy", npy(3, "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f4\"}", floats(8, 9))));
        assertArrayEquals(new float[] {8, 9}, v3.toFloatArray());
    }

    @Test
    void roundTripsThroughWriterForEveryShapeKind() throws IOException {
        for (long[] shape : new long[][] {{}, {1}, {7}, {13, 1}, {0, 4}, {2, 3, 5}}) {
            int n = (int) Tensor.elementCount("x", shape);
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = i * 0.5f - 3;
            Path p = dir.resolve("rt" + shape.length + "_" + n + ".npy");
            NpyWriter.write(p, DType.F32, shape, MemorySegment.ofArray(floats(v)));
            Tensor t = read(p);
            assertArrayEquals(shape, t.shape());
            assertArrayEquals(v, t.toFloatArray());
            assertEquals(0, (Files.size(p) - n * 4L) % 64, "data starts 64-byte aligned");
        }
    }

    @Test
    void badMagicIsRejected() throws IOException {
        byte[] b = concat(numpyHeader23(), floats(1, 2, 3, 4, 5, 6));
        b[1] = 'X';
        Path p = file("m.npy", b);
        assertRejects(p, "magic", "NUMPY", () -> read(p));
    }

    @Test
    void unknownVersionIsRejected() throws IOException {
        byte[] b = concat(numpyHeader23(), floats(1, 2, 3, 4, 5, 6));
        b[6] = 4;
        Path p = file("v.npy", b);
        assertRejects(p, "version", "4.0", () -> read(p));
    }

    @Test
    void headerLengthPastEndOfFileIsRejected() throws IOException {
        byte[] b = numpyHeader23();
        b[8] = (byte) 0xFF;
        b[9] = 0x7F;
        Path p = file("l.npy", b);
        assertRejects(p, "header_len", "32767", () -> read(p));
    }

    @Test
    void headerLongerThanOneMegabyteIsRejected() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.put(Npy.MAGIC).put((byte) 2).put((byte) 0).putInt(2 << 20);
        Path p = file("big.npy", b.array());
        assertRejects(p, "header_len", "2097152", () -> read(p));
    }

    @Test
    void malformedDictsAreRejected() throws IOException {
        String[] bad = {
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}",
            "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}",
            "{'descr': '<f4', 'fortran_order': False}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (6)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-6,)}",
            "{'descr': '<f4' 'fortran_order': False, 'shape': (6,)}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} junk",
        };
        for (int i = 0; i < bad.length; i++) {
            Path p = file("bad" + i + ".npy", npy(1, bad[i], floats(1, 2, 3, 4, 5, 6)));
            assertRejects(p, "header", "malformed header dict", () -> read(p));
        }
    }

    @Test
    void pickledObjectAndStringDtypesAreRejectedAsUnsupported() throws IOException {
        for (String descr : new String[] {"|O", "<U5", "<f8", "<i4"}) {
            Path p = file("o" + descr.hashCode() + ".npy", npy(1, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (2,), }", new byte[8]));
            assertRejects(p, "descr", "only f32", () -> read(p));
        }
        Path s = file("struct.npy", npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", new byte[8]));
        assertRejects(s, "descr", "structured", () -> read(s));
    }

    @Test
    void bigEndianIsRejected() throws IOException {
        Path p = file("be.npy", npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", new byte[8]));
        assertRejects(p, "descr", "big-endian", () -> read(p));
    }

    @Test
    void fortranOrderIsRejectedWithContiguousHint() throws IOException {
        Path p = file("f.npy", npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", floats(1, 2, 3, 4, 5, 6)));
        assertRejects(p, "fortran_order", "np.ascontiguousarray", () -> read(p));
    }

    @Test
    void fortranOrderReadsInPlaceAsItsCOrderTransposeWhenTheReaderTakesIt() throws IOException {
        // numpy's a = [[1, 2, 3], [4, 5, 6]] in Fortran order is stored column by column: 1 4 2 5 3 6
        Path p = file("f.npy", npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", floats(1, 4, 2, 5, 3, 6)));
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Npy.read(p, a, Npy.Order.C_OR_FORTRAN);
            assertTrue(t.fortranOrder());
            assertArrayEquals(new long[] {3, 2}, t.shape(), "the C-order transpose a.T");
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, t.toFloatArray(), 0f, "a.T row by row, read in place");
            Tensor v = Npy.read(file("f1.npy", npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", floats(7, 8, 9))), a, Npy.Order.C_OR_FORTRAN);
            assertFalse(v.fortranOrder(), "a 1-D array is the same in both orders");
        }
    }

    @Test
    void fortranOrderWriterMatchesTheBytesNumpyWritesForATransposedView() throws Exception {
        Path ours = dir.resolve("ours.npy");
        // a.T for C-order a = [[1, 2], [3, 4], [5, 6]]: numpy shows shape (2, 3), stores a's bytes
        NpyWriter.write(ours, DType.F32, new long[] {2, 3}, MemorySegment.ofArray(floats(1, 2, 3, 4, 5, 6)), true);
        assertTrue(new String(Files.readAllBytes(ours), StandardCharsets.ISO_8859_1).contains("'fortran_order': True, 'shape': (2, 3), }"));
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Npy.read(ours, a, Npy.Order.C_OR_FORTRAN);
            assertArrayEquals(new long[] {3, 2}, t.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloatArray(), 0f);
            // NpzWriter keeps the order of a Fortran tensor: the member reads back identical
            Path z = dir.resolve("f.npz");
            NpzWriter.write(z, java.util.Map.of("a", t));
            try (NpzFile f = Npz.open(z, a, Npy.Order.C_OR_FORTRAN)) {
                Tensor back = f.get("a");
                assertTrue(back.fortranOrder());
                assertArrayEquals(t.shape(), back.shape());
                assertArrayEquals(t.toFloatArray(), back.toFloatArray(), 0f);
            }
            assertRejects(z, "a.npy:fortran_order", "np.ascontiguousarray", () -> Npz.open(z, a));
        }
        Path py = dir.resolve("np.py"), theirs = dir.resolve("theirs.npy");
        Files.writeString(py, "import sys, numpy as np\nnp.save(sys.argv[1], np.arange(1, 7, dtype='<f4').reshape(3, 2).T)\n");
        Process proc;
        try {
            proc = new ProcessBuilder("python3", py.toString(), theirs.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("python3 is not installed; the Java-side checks above ran");
            return;
        }
        String log = new String(proc.getInputStream().readAllBytes());
        proc.waitFor();
        org.junit.jupiter.api.Assumptions.assumeFalse(log.contains("No module named 'numpy'"), "python3 has no numpy; the Java-side checks above ran");
        assertEquals(0, proc.exitValue(), log);
        assertArrayEquals(Files.readAllBytes(theirs), Files.readAllBytes(ours), "byte for byte what numpy writes");
    }

    @Test
    void truncatedDataIsRejectedAsSizeMismatch() throws IOException {
        Path p = file("t.npy", concat(numpyHeader23(), floats(1, 2, 3, 4, 5)));
        assertRejects(p, "data", "size mismatch", () -> read(p));
    }

    @Test
    void trailingBytesAreRejectedAsSizeMismatch() throws IOException {
        Path p = file("tr.npy", concat(numpyHeader23(), floats(1, 2, 3, 4, 5, 6, 7)));
        FormatException e = assertRejects(p, "data", "size mismatch", () -> read(p));
        assertTrue(e.getMessage().contains("trailing"));
    }

    @Test
    void streamingWriterCommitsOnlyAfterAllRows() throws IOException {
        Path p = dir.resolve("act.npy");
        try (NpyWriter w = NpyWriter.open(p, new long[] {3, 2})) {
            w.writeRows(MemorySegment.ofArray(floats(1, 2)));
            assertFalse(Files.exists(p), "target must not appear before close");
            w.writeRows(MemorySegment.ofArray(floats(3, 4, 5, 6)));
        }
        Tensor t = read(p);
        assertArrayEquals(new long[] {3, 2}, t.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloatArray());
        Path ref = dir.resolve("ref.npy");
        NpyWriter.write(ref, DType.F32, new long[] {3, 2}, MemorySegment.ofArray(floats(1, 2, 3, 4, 5, 6)));
        assertArrayEquals(Files.readAllBytes(ref), Files.readAllBytes(p));
    }

    @Test
    void incompleteStreamingWriteLeavesTargetUntouched() throws IOException {
        Path p = dir.resolve("act.npy");
        Files.writeString(p, "old");
        NpyWriter w = NpyWriter.open(p, new long[] {3, 2});
        w.writeRows(MemorySegment.ofArray(floats(1, 2)));
        IOException e = assertThrows(IOException.class, w::close);
        assertTrue(e.getMessage().contains("1 of 3 rows"));
        assertEquals("old", Files.readString(p));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "temp file must be removed");
        }
    }

    @Test
    void streamingWriterWithEmptyRowsCommitsOnClose() throws IOException {
        Path p = dir.resolve("e.npy");
        NpyWriter.open(p, new long[] {4, 0}).close();
        assertArrayEquals(new long[] {4, 0}, read(p).shape());
    }

    @Test
    void streamingWriterRejectsPartialAndExtraRows() throws IOException {
        Path p = dir.resolve("a.npy");
        NpyWriter w = NpyWriter.open(p, new long[] {1, 2});
        assertThrows(IllegalArgumentException.class, () -> w.writeRows(MemorySegment.ofArray(floats(1))));
        assertThrows(IllegalArgumentException.class, () -> w.writeRows(MemorySegment.ofArray(floats(1, 2, 3, 4))));
        w.writeRows(MemorySegment.ofArray(floats(1, 2)));
        w.close();
        assertArrayEquals(new float[] {1, 2}, read(p).toFloatArray());
    }
}
