package dev.jlens.formats;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes uncompressed (STORED) npz archives, as {@code np.savez} does, so {@link Npz} can map them.
 * Data streams from the tensors' segments in 1 MB chunks (twice: CRC first, because STORED entries
 * need the CRC in the local header); ZipOutputStream switches to ZIP64 on its own past 4 GB.
 */
public final class NpzWriter {
    private static final int CHUNK = 1 << 20;
    /** Fixed timestamp so identical inputs give identical files. */
    private static final long DOS_EPOCH = 315532800000L + 12L * 3600_000L;

    private NpzWriter() {}

    /**
     * A member with any little-endian numpy dtype: {@code descr} is numpy's ({@code <f4}, {@code <i4},
     * {@code <i8}, ..., or {@code |S<n>}: byte strings of n bytes), {@code data} holds exactly product(shape) elements of it. With {@code fortranOrder}
     * {@code shape} is the array as numpy shows it and {@code data} its elements in Fortran order (the header says
     * {@code 'fortran_order': True}, as {@code np.savez} writes a transposed view).
     */
    public record Member(String descr, long[] shape, MemorySegment data, boolean fortranOrder) {
        /** A member stored in C order. */
        public Member(String descr, long[] shape, MemorySegment data) {
            this(descr, shape, data, false);
        }

        public Member {
            int size = switch (descr) {
                case "<f4", "<i4", "<u4" -> 4;
                case "<f8", "<i8", "<u8" -> 8;
                case "<f2", "<i2", "<u2" -> 2;
                case "|i1", "|u1", "|b1" -> 1;
                default -> {
                    if (!descr.matches("\\|S[1-9][0-9]{0,5}")) throw new IllegalArgumentException("unsupported numpy dtype " + descr);
                    yield Integer.parseInt(descr.substring(2));
                }
            };
            long n = 1;
            for (long d : shape) n = Math.multiplyExact(n, d);
            if (n * size != data.byteSize()) throw new IllegalArgumentException("member of shape " + java.util.Arrays.toString(shape)
                    + " and dtype " + descr + " needs " + n * size + " bytes, got " + data.byteSize());
            shape = shape.clone();
        }

        /** The tensor as numpy would save it: a {@link Tensor#fortranOrder()} tensor keeps its Fortran order. */
        public static Member of(Tensor t) {
            long[] s = t.shape();
            if (t.fortranOrder()) for (int i = 0; i < s.length / 2; i++) { long x = s[i]; s[i] = s[s.length - 1 - i]; s[s.length - 1 - i] = x; }
            return new Member(t.dtype().numpyDescr(), s, t.data(), t.fortranOrder());
        }
        public static Member ints(int[] v) { return new Member("<i4", new long[] {v.length}, MemorySegment.ofArray(v)); }
        public static Member longs(long[] v) { return new Member("<i8", new long[] {v.length}, MemorySegment.ofArray(v)); }
        public static Member floats(float[] v) { return new Member("<f4", new long[] {v.length}, MemorySegment.ofArray(v)); }
        /** A 0-d byte string ({@code |S<n>}, n = its ASCII length), as numpy saves {@code np.array(b'csr')}. */
        public static Member byteString(String ascii) {
            if (ascii.isEmpty() || !java.nio.charset.StandardCharsets.US_ASCII.newEncoder().canEncode(ascii))
                throw new IllegalArgumentException("a numpy byte string needs 1+ ASCII characters, got '" + ascii + "'");
            byte[] b = ascii.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            return new Member("|S" + b.length, new long[0], MemorySegment.ofArray(b));
        }
    }

    /** Writes {@code arrays} (member name without {@code .npy} to tensor) atomically, in map order. */
    public static void write(Path file, Map<String, Tensor> arrays) throws IOException {
        Map<String, Member> m = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : arrays.entrySet()) m.put(e.getKey(), Member.of(e.getValue()));
        writeMembers(file, m);
    }

    /** Writes members of any numpy dtype atomically, in map order (heap segments are written little-endian). */
    public static void writeMembers(Path file, Map<String, Member> arrays) throws IOException {
        if (java.nio.ByteOrder.nativeOrder() != java.nio.ByteOrder.LITTLE_ENDIAN) throw new IllegalStateException("big-endian platforms are not supported");
        AtomicFiles.writeStream(file, out -> {
            ZipOutputStream zos = new ZipOutputStream(out);
            byte[] buf = new byte[CHUNK];
            for (Map.Entry<String, Member> e : arrays.entrySet()) {
                Member t = e.getValue();
                byte[] header = NpyWriter.header(t.descr(), t.shape(), t.fortranOrder());
                MemorySegment data = t.data();
                CRC32 crc = new CRC32();
                crc.update(header);
                for (long off = 0; off < data.byteSize(); off += CHUNK) {
                    int n = (int) Math.min(CHUNK, data.byteSize() - off);
                    MemorySegment.copy(data, ValueLayout.JAVA_BYTE, off, buf, 0, n);
                    crc.update(buf, 0, n);
                }
                ZipEntry ze = new ZipEntry(e.getKey() + ".npy");
                ze.setMethod(ZipEntry.STORED);
                ze.setSize(header.length + data.byteSize());
                ze.setCompressedSize(header.length + data.byteSize());
                ze.setCrc(crc.getValue());
                ze.setTime(DOS_EPOCH);
                zos.putNextEntry(ze);
                zos.write(header);
                for (long off = 0; off < data.byteSize(); off += CHUNK) {
                    int n = (int) Math.min(CHUNK, data.byteSize() - off);
                    MemorySegment.copy(data, ValueLayout.JAVA_BYTE, off, buf, 0, n);
                    zos.write(buf, 0, n);
                }
                zos.closeEntry();
            }
            zos.finish();
        });
    }
}
