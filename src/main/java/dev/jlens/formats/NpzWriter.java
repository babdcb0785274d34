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

    /** Writes {@code arrays} (member name without {@code .npy} to tensor) atomically, in map order. */
    public static void write(Path file, Map<String, Tensor> arrays) throws IOException {
        AtomicFiles.writeStream(file, out -> {
            ZipOutputStream zos = new ZipOutputStream(out);
            byte[] buf = new byte[CHUNK];
            for (Map.Entry<String, Tensor> e : arrays.entrySet()) {
                Tensor t = e.getValue();
                byte[] header = NpyWriter.header(t.dtype(), t.shape());
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
