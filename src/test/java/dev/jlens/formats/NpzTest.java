package dev.jlens.formats;

import static dev.jlens.formats.NpyTest.floats;
import static dev.jlens.formats.NpyTest.npy;
import static dev.jlens.formats.Rejects.assertRejects;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpzTest {
    @TempDir
    Path dir;

    private static byte[] f32(String shape, float... v) {
        return npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", floats(v));
    }

    private Path build(String name, ZipBuilder z) throws IOException {
        Path p = dir.resolve(name);
        z.write(p);
        return p;
    }

    private static ZipBuilder twoMembers() {
        ZipBuilder z = new ZipBuilder();
        z.add("W_enc.npy", f32("(2, 2)", 1, 2, 3, 4));
        z.add("b_enc.npy", f32("(2,)", 5, 6));
        return z;
    }

    @Test
    void readsNumpySavezLayoutWithZip64LocalExtras() throws IOException {
        // numpy 2.x passes force_zip64=True: local headers carry 0xFFFFFFFF sizes and a zip64 extra
        ZipBuilder z = twoMembers();
        z.members.forEach(m -> m.zip64 = true);
        z.zip64Eocd = true;
        try (NpzFile f = Npz.open(build("numpy.npz", z))) {
            assertEquals(List.of("W_enc", "b_enc"), List.copyOf(f.members().keySet()));
            assertArrayEquals(new float[] {1, 2, 3, 4}, f.get("W_enc").toFloatArray());
            assertArrayEquals(new long[] {2}, f.get("b_enc").shape());
            assertTrue(f.get("b_enc").data().isMapped());
        }
    }

    @Test
    void readsPlainZipWithoutZip64() throws IOException {
        try (NpzFile f = Npz.open(build("plain.npz", twoMembers()))) {
            assertArrayEquals(new float[] {5, 6}, f.get("b_enc").toFloatArray());
        }
    }

    @Test
    void writerRoundTripsAndReaderMapsTheResult() throws IOException {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("W_dec", new Tensor("W_dec", DType.F32, new long[] {3, 2}, MemorySegment.ofArray(floats(1, 2, 3, 4, 5, 6))));
        in.put("threshold", new Tensor("threshold", DType.F16, new long[] {2}, MemorySegment.ofArray(new byte[] {0, 0x3C, 0, 0x40})));
        in.put("empty", new Tensor("empty", DType.F32, new long[] {0}, MemorySegment.ofArray(new byte[0])));
        Path p = dir.resolve("out.npz");
        NpzWriter.write(p, in);
        try (Arena arena = Arena.ofConfined(); NpzFile f = Npz.open(p, arena)) {
            assertEquals(in.keySet(), f.members().keySet());
            for (String k : in.keySet()) assertEquals(in.get(k), f.get(k), k);
            assertArrayEquals(new float[] {1, 2}, f.get("threshold").toFloatArray());
        }
        // the JDK's own zip reader must agree that the CRCs and layout are valid
        try (var zf = new java.util.zip.ZipFile(p.toFile())) {
            var e = zf.getEntry("W_dec.npy");
            assertArrayEquals(Files.readAllBytes(writeNpy(in.get("W_dec"))), zf.getInputStream(e).readAllBytes());
        }
    }

    private Path writeNpy(Tensor t) throws IOException {
        Path p = dir.resolve(t.name() + ".npy");
        NpyWriter.write(p, t.dtype(), t.shape(), t.data());
        return p;
    }

    @Test
    void missingMemberErrorListsExistingMembers() throws IOException {
        Path p = build("m.npz", twoMembers());
        try (NpzFile f = Npz.open(p)) {
            FormatException e = assertRejects(p, "W_dec", "W_enc", () -> f.get("W_dec"));
            assertTrue(e.getMessage().contains("b_enc"));
        }
    }

    @Test
    void deflatedMemberIsRejectedWithResaveHint() throws IOException {
        ZipBuilder z = twoMembers();
        z.members.get(1).method = 8;
        Path p = build("d.npz", z);
        assertRejects(p, "b_enc.npy", "np.savez(", () -> Npz.open(p));
    }

    @Test
    void encryptedMemberIsRejected() throws IOException {
        ZipBuilder z = twoMembers();
        z.members.get(0).flags = 1;
        Path p = build("e.npz", z);
        assertRejects(p, "W_enc.npy", "encrypted", () -> Npz.open(p));
    }

    @Test
    void duplicateMemberNamesAreRejected() throws IOException {
        ZipBuilder z = twoMembers();
        z.add("W_enc.npy", f32("(1,)", 9));
        Path p = build("dup.npz", z);
        assertRejects(p, "W_enc.npy", "duplicate", () -> Npz.open(p));
    }

    @Test
    void storedMemberWithDifferentCompressedSizeIsRejected() throws IOException {
        ZipBuilder z = twoMembers();
        ZipBuilder.Member m = z.members.get(0);
        m.centralCompressedSize = m.size() - 4;
        Path p = build("cs.npz", z);
        assertRejects(p, "W_enc.npy", "compressed size", () -> Npz.open(p));
    }

    @Test
    void declaredSizeLargerThanFileIsRejectedAsBomb() throws IOException {
        ZipBuilder z = twoMembers();
        z.members.get(0).zip64 = true;
        z.members.get(0).centralSize = 1L << 40;
        Path p = build("bomb.npz", z);
        assertRejects(p, "W_enc.npy", "larger than the file", () -> Npz.open(p));
    }

    @Test
    void memberDataRunningIntoCentralDirectoryIsRejected() throws IOException {
        ZipBuilder z = twoMembers();
        ZipBuilder.Member m = z.members.get(1);
        m.centralSize = m.size() + 8;
        Path p = build("past.npz", z);
        assertRejects(p, "b_enc.npy", "runs past the member area", () -> Npz.open(p));
    }

    @Test
    void localHeaderOffsetOutsideTheFileIsRejected() throws IOException {
        ZipBuilder z = twoMembers();
        z.members.get(1).centralLocalOffset = 1L << 33;
        z.members.get(1).zip64 = true;
        Path p = build("lho.npz", z);
        assertRejects(p, "b_enc.npy", "8589934592", () -> Npz.open(p));
    }

    @Test
    void overlappingMembersAreRejected() throws IOException {
        ZipBuilder z = twoMembers();
        ZipBuilder.Member m = z.members.get(0);
        m.centralSize = m.size() + 10;
        Path p = build("ov.npz", z);
        assertRejects(p, "b_enc.npy", "overlaps member 'W_enc.npy'", () -> Npz.open(p));
    }

    @Test
    void badLocalSignatureIsRejected() throws IOException {
        ZipBuilder z = twoMembers();
        z.members.get(1).localSig = 0x12345678;
        Path p = build("ls.npz", z);
        assertRejects(p, "b_enc.npy", "12345678", () -> Npz.open(p));
    }

    @Test
    void badCentralSignatureIsRejected() throws IOException {
        ZipBuilder z = twoMembers();
        z.members.get(0).centralSig = 0x0badf00d;
        Path p = build("cds.npz", z);
        assertRejects(p, "central directory", "badf00d", () -> Npz.open(p));
    }

    @Test
    void missingEndOfCentralDirectoryIsRejected() throws IOException {
        ZipBuilder z = twoMembers();
        z.eocdSig = 0x01020304;
        Path p = build("eocd.npz", z);
        assertRejects(p, "end of central directory", "0x06054b50", () -> Npz.open(p));
    }

    @Test
    void entryCountThatCannotFitTheDirectoryIsRejected() throws IOException {
        ZipBuilder z = twoMembers();
        z.zip64Eocd = true;
        z.eocdEntries = 1L << 40;
        Path p = build("count.npz", z);
        assertRejects(p, "central directory", "1099511627776", () -> Npz.open(p));
    }

    @Test
    void localNameDifferentFromCentralNameIsRejected() throws IOException {
        ZipBuilder z = twoMembers();
        z.members.get(0).localName = "W_xxx.npy";
        Path p = build("ln.npz", z);
        assertRejects(p, "W_enc.npy", "W_xxx.npy", () -> Npz.open(p));
    }

    @Test
    void badNpyInsideMemberNamesTheMember() throws IOException {
        ZipBuilder z = twoMembers();
        z.add("W_dec.npy", npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", floats(1)));
        Path p = build("fo.npz", z);
        assertRejects(p, "W_dec.npy:fortran_order", "np.ascontiguousarray", () -> Npz.open(p));
    }

    @Test
    void truncatedArchiveIsRejectedAtEveryLength() throws IOException {
        Path full = build("full.npz", twoMembers());
        byte[] bytes = Files.readAllBytes(full);
        for (int n = 0; n < bytes.length; n++) {
            Path p = dir.resolve("cut.npz");
            Files.write(p, java.util.Arrays.copyOf(bytes, n));
            int len = n;
            assertRejects(p, "", "", () -> {
                try (NpzFile f = Npz.open(p)) {
                    throw new AssertionError("truncation to " + len + " bytes was accepted: " + f.members());
                }
            });
        }
    }

    @Test
    void gemmaScopeSizedMemberIsMappedNotCopied() throws IOException {
        // 2304 x 262144 f32 = 2.4 GB, zero-filled via setLength (sparse: no disk, no heap)
        long rows = 2304, cols = 262144;
        ZipBuilder z = new ZipBuilder();
        byte[] header = NpyWriter.header(DType.F32, new long[] {rows, cols});
        ZipBuilder.Member m = z.add("W_enc.npy", header);
        m.zeroTail = rows * cols * 4;
        m.zip64 = true;
        z.zip64Eocd = true;
        Path p = build("big.npz", z);
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        try (NpzFile f = Npz.open(p)) {
            Tensor t = f.get("W_enc");
            assertArrayEquals(new long[] {rows, cols}, t.shape());
            assertEquals(0f, t.get(rows * cols - 1));
            assertEquals(0f, t.get(rows * cols / 2));
            long used = rt.totalMemory() - rt.freeMemory() - before;
            assertTrue(used < 64L << 20, "heap grew by " + used + " bytes");
        }
    }
}
