package dev.jlens.formats;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Writes {@code .npy} files byte-for-byte like numpy 2.x {@code np.save}: version 1.0 header (2.0
 * when it does not fit 64 KB), growth padding, total header a multiple of 64 bytes.
 * Streaming mode ({@link #open}) writes float32 rows to a temp file and renames it over the target
 * only when every declared row has arrived.
 */
public final class NpyWriter implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NpyWriter.class.getName());
    private static final int ALIGN = 64;
    /** numpy reserves room so the leading dimension could grow to 21 digits in place. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;

    private final Path target;
    private final Path tmp;
    private final FileChannel channel;
    private final long rowBytes;
    private final long rows;
    private long rowsWritten;
    private boolean closed;

    private NpyWriter(Path target, Path tmp, FileChannel channel, long rowBytes, long rows) {
        this.target = target;
        this.tmp = tmp;
        this.channel = channel;
        this.rowBytes = rowBytes;
        this.rows = rows;
        // rows of zero bytes (a 0 in shape[1:]) are all "written" by the header alone
        this.rowsWritten = rowBytes == 0 ? rows : 0;
    }

    /** Writes a whole array atomically; {@code data} holds exactly shape-product x element-size bytes. */
    public static void write(Path file, DType dtype, long[] shape, MemorySegment data) throws IOException {
        write(file, dtype, shape, data, false);
    }

    /**
     * As {@link #write(Path, DType, long[], MemorySegment)}; with {@code fortranOrder} the header says
     * {@code 'fortran_order': True}, as numpy writes a transposed view: {@code shape} is the array as numpy shows it
     * and {@code data} its elements in Fortran order, i.e. the C-order bytes of the reversed shape.
     */
    public static void write(Path file, DType dtype, long[] shape, MemorySegment data, boolean fortranOrder) throws IOException {
        long bytes = Math.multiplyExact(Tensor.elementCount(file.toString(), shape), dtype.size());
        if (data.byteSize() != bytes) {
            throw new IllegalArgumentException(file + ": shape " + Arrays.toString(shape) + " needs " + bytes + " bytes but data has " + data.byteSize());
        }
        byte[] header = header(dtype.numpyDescr(), shape, fortranOrder);
        AtomicFiles.write(file, ch -> {
            writeFully(ch, ByteBuffer.wrap(header));
            writeSegment(ch, data);
        });
    }

    /**
     * Starts a streaming float32 file of {@code shape} (rank >= 1); rows are slices along axis 0.
     * The target appears only when {@link #close()} runs after all {@code shape[0]} rows were written.
     */
    public static NpyWriter open(Path file, long[] shape) throws IOException {
        if (shape.length == 0) throw new IllegalArgumentException(file + ": streaming needs a shape with at least one dimension");
        long total = Math.multiplyExact(Tensor.elementCount(file.toString(), shape), DType.F32.size());
        long rowBytes = shape[0] == 0 ? 0 : total / shape[0];
        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName() + ".", ".tmp");
        FileChannel ch = null;
        try {
            // createTempFile makes the file owner-only; activations.npy is an ordinary output like its neighbours
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            writeFully(ch, ByteBuffer.wrap(header(DType.F32, shape)));
            return new NpyWriter(abs, tmp, ch, rowBytes, shape[0]);
        } catch (IOException | RuntimeException e) {
            if (ch != null) ch.close();
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** Appends whole float32 rows (little-endian); {@code rows} must be a multiple of the row size. */
    public void writeRows(MemorySegment rowsData) throws IOException {
        if (closed) throw new IllegalStateException(target + ": writer is closed");
        long n = rowsData.byteSize();
        if (rowBytes == 0 ? n != 0 : n % rowBytes != 0) {
            throw new IllegalArgumentException(target + ": " + n + " bytes is not a whole number of " + rowBytes + "-byte rows");
        }
        long k = rowBytes == 0 ? 0 : n / rowBytes;
        if (rowsWritten + k > rows) {
            throw new IllegalArgumentException(target + ": writing " + k + " rows after " + rowsWritten + " exceeds the declared " + rows);
        }
        writeSegment(channel, rowsData);
        rowsWritten += k;
    }

    public long rowsWritten() {
        return rowsWritten;
    }

    /**
     * Commits (fsync + rename) when all rows were written; otherwise deletes the temp file, leaves
     * the target untouched and throws, so an incomplete capture can never pass for a complete one.
     */
    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        boolean complete = rowsWritten == rows;
        try {
            if (complete) channel.force(true);
        } finally {
            channel.close();
            if (!complete) Files.deleteIfExists(tmp);
        }
        if (!complete) {
            LOG.log(System.Logger.Level.WARNING, "{0}: only {1} of {2} rows written; target left untouched", target, rowsWritten, rows);
            throw new IOException(target + ": only " + rowsWritten + " of " + rows + " rows written; target left untouched");
        }
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: atomic rename not supported, falling back to a plain move", target);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The complete npy preamble (magic, version, length, padded dict) for a C-order array. */
    static byte[] header(DType dtype, long[] shape) {
        return header(dtype.numpyDescr(), shape);
    }

    /** As {@link #header(DType, long[])} for any numpy descr (e.g. {@code <i4}, {@code <i8} for index arrays). */
    static byte[] header(String descr, long[] shape) {
        return header(descr, shape, false);
    }

    /** The preamble numpy writes for an array of {@code shape} stored in Fortran order when {@code fortranOrder}. */
    static byte[] header(String descr, long[] shape, boolean fortranOrder) {
        StringBuilder dict = new StringBuilder("{'descr': '").append(descr)
                .append("', 'fortran_order': ").append(fortranOrder ? "True" : "False").append(", 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) dict.append(", ");
            dict.append(shape[i]);
        }
        if (shape.length == 1) dict.append(',');
        dict.append("), }");
        if (shape.length > 0) dict.append(" ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - Long.toString(shape[0]).length())));
        int pre = 10;
        int len = dict.length() + 1;
        if (pre + len + (ALIGN - (pre + len) % ALIGN) % ALIGN > 0xFFFF + pre) pre = 12;
        int pad = (ALIGN - (pre + len) % ALIGN) % ALIGN;
        String h = dict + " ".repeat(pad) + "\n";
        byte[] hb = h.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer bb = ByteBuffer.allocate(pre + hb.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        bb.put(Npy.MAGIC);
        if (pre == 10) {
            bb.put((byte) 1).put((byte) 0).putShort((short) hb.length);
        } else {
            bb.put((byte) 2).put((byte) 0).putInt(hb.length);
        }
        bb.put(hb);
        return bb.array();
    }

    static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    /**
     * Streams a segment in chunks; {@code asByteBuffer} on a 1 MB slice avoids any heap copy. A heap segment over
     * another array than byte[] (a float[] of the caller's) has no byte buffer view: its chunks go through a copy.
     */
    static void writeSegment(FileChannel ch, MemorySegment data) throws IOException {
        final long chunk = 1 << 20;
        boolean view = data.isNative() || data.heapBase().map(b -> b instanceof byte[]).orElse(false);
        byte[] buf = view ? null : new byte[(int) Math.min(chunk, data.byteSize())];
        for (long off = 0; off < data.byteSize(); off += chunk) {
            long n = Math.min(chunk, data.byteSize() - off);
            if (view) {
                writeFully(ch, data.asSlice(off, n).asByteBuffer());
            } else {
                MemorySegment.copy(data, java.lang.foreign.ValueLayout.JAVA_BYTE, off, buf, 0, (int) n);
                writeFully(ch, ByteBuffer.wrap(buf, 0, (int) n));
            }
        }
    }
}
