package dev.jlens.formats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A sparse float32 matrix in scipy's own CSR npz layout, member for member what
 * {@code scipy.sparse.save_npz(f, m, compressed=False)} writes: {@code indices} int32 [nnz], {@code indptr} int32
 * [rows+1], {@code format} b'csr' (0-d {@code |S3}), {@code shape} int64 [2], {@code data} float32 [nnz]. int32 indices
 * are scipy's own choice while nnz, rows and columns fit in 31 bits. {@code scipy.sparse.load_npz} reads it, and numpy's
 * {@code np.load} too. The codes of `jlens encode` (codes.npz) and a study's prompt x feature matrices use it.
 *
 * @param rows    number of rows
 * @param cols    number of columns
 * @param indptr  row {@code r}'s entries are {@code indptr[r] .. indptr[r+1]-1}
 * @param indices column of each entry, ascending within a row
 * @param data    value of each entry
 */
public record CsrNpz(int rows, int cols, int[] indptr, int[] indices, float[] data) {
    public CsrNpz {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("shape must be >= 0, got " + rows + " x " + cols);
        if (indptr.length != rows + 1) throw new IllegalArgumentException("indptr has " + indptr.length + " entries, expected rows + 1 = " + (rows + 1));
        if (indices.length != data.length) throw new IllegalArgumentException(indices.length + " indices but " + data.length + " values");
        if (indptr[0] != 0 || indptr[rows] != indices.length) throw new IllegalArgumentException("indptr must run from 0 to nnz = " + indices.length);
    }

    /** Non-zero entries stored. */
    public int nnz() { return indices.length; }

    /** Writes the matrix to {@code file} (atomically, as {@link NpzWriter} does). */
    public void write(Path file) throws IOException {
        Map<String, NpzWriter.Member> m = new LinkedHashMap<>();
        m.put("indices", NpzWriter.Member.ints(indices));
        m.put("indptr", NpzWriter.Member.ints(indptr));
        m.put("format", NpzWriter.Member.byteString("csr"));
        m.put("shape", NpzWriter.Member.longs(new long[] {rows, cols}));
        m.put("data", NpzWriter.Member.floats(data));
        NpzWriter.writeMembers(file, m);
    }

    private static final Pattern DESCR = Pattern.compile("'descr': '([^']+)'");
    private static final Pattern SHAPE = Pattern.compile("'shape': \\(([^)]*)\\)");

    /**
     * Reads a CSR npz in this layout (as scipy's save_npz writes it, uncompressed or deflated); anything else is a
     * {@link FormatException} naming the member.
     */
    public static CsrNpz read(Path file) throws IOException {
        Map<String, ByteBuffer> members = new LinkedHashMap<>();
        Map<String, String> descr = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(file.toFile())) {
            for (ZipEntry e : z.stream().toList()) {
                byte[] b = z.getInputStream(e).readAllBytes();
                String name = e.getName().endsWith(".npy") ? e.getName().substring(0, e.getName().length() - 4) : e.getName();
                if (b.length < 10 || !"\u0093NUMPY".equals(new String(b, 0, 6, StandardCharsets.ISO_8859_1)))
                    throw new FormatException(file, name, "not an npy member");
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                int headerLen = b[6] == 1 ? Short.toUnsignedInt(bb.getShort(8)) : bb.getInt(8);
                int start = b[6] == 1 ? 10 : 12;
                String h = new String(b, start, headerLen, StandardCharsets.ISO_8859_1);
                Matcher d = DESCR.matcher(h);
                if (!d.find() || h.contains("'fortran_order': True")) throw new FormatException(file, name, "unsupported npy header " + h.strip());
                Matcher s = SHAPE.matcher(h);
                if (!s.find()) throw new FormatException(file, name, "no shape in " + h.strip());
                descr.put(name, d.group(1));
                members.put(name, ByteBuffer.wrap(b, start + headerLen, b.length - start - headerLen).slice().order(ByteOrder.LITTLE_ENDIAN));
            }
        }
        for (String n : new String[] {"indices", "indptr", "format", "shape", "data"})
            if (!members.containsKey(n)) throw new FormatException(file, n, "missing; the archive has " + members.keySet());
        ByteBuffer fmt = members.get("format");
        byte[] f = new byte[fmt.remaining()];
        fmt.get(f);
        if (!"csr".equals(new String(f, StandardCharsets.US_ASCII).replace("\0", ""))) throw new FormatException(file, "format", new String(f, StandardCharsets.US_ASCII));
        long[] shape = longs(file, "shape", descr.get("shape"), members.get("shape"));
        if (shape.length != 2) throw new FormatException(file, "shape", shape.length + " entries");
        int[] indptr = ints(file, "indptr", descr.get("indptr"), members.get("indptr"));
        int[] indices = ints(file, "indices", descr.get("indices"), members.get("indices"));
        if (!"<f4".equals(descr.get("data"))) throw new FormatException(file, "data", "dtype " + descr.get("data") + ", expected <f4");
        float[] data = new float[members.get("data").remaining() / 4];
        members.get("data").asFloatBuffer().get(data);
        try {
            return new CsrNpz(Math.toIntExact(shape[0]), Math.toIntExact(shape[1]), indptr, indices, data);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new FormatException(file, "indptr", e.getMessage());
        }
    }

    private static long[] longs(Path file, String name, String descr, ByteBuffer b) throws FormatException {
        if ("<i8".equals(descr)) {
            long[] out = new long[b.remaining() / 8];
            b.asLongBuffer().get(out);
            return out;
        }
        int[] i = ints(file, name, descr, b);
        long[] out = new long[i.length];
        for (int k = 0; k < i.length; k++) out[k] = i[k];
        return out;
    }

    private static int[] ints(Path file, String name, String descr, ByteBuffer b) throws FormatException {
        if ("<i4".equals(descr)) {
            int[] out = new int[b.remaining() / 4];
            b.asIntBuffer().get(out);
            return out;
        }
        if ("<i8".equals(descr)) {
            int[] out = new int[b.remaining() / 8];
            for (int k = 0; k < out.length; k++) out[k] = Math.toIntExact(b.getLong(8 * k));
            return out;
        }
        throw new FormatException(file, name, "dtype " + descr + ", expected <i4 or <i8");
    }
}
