package dev.jlens.formats;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reads numpy {@code .npy} files (format versions 1.0, 2.0, 3.0) as memory-mapped views: the
 * element data is never copied onto the Java heap.
 */
public final class Npy {
    /**
     * Which memory orders a reader takes. {@link #C_ONLY} (the default) refuses Fortran-order arrays, so a reader
     * that ignores {@link Tensor#fortranOrder()} can never misread one; {@link #C_OR_FORTRAN} maps them in place as
     * their C-order transpose (see {@link Tensor}), for readers that handle both layouts (the SAE loaders).
     */
    public enum Order { C_ONLY, C_OR_FORTRAN }

    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy itself refuses headers above 10 KB by default; 1 MB leaves room and bounds allocation. */
    static final int MAX_HEADER = 1 << 20;

    private Npy() {}

    /** Maps {@code file} into {@code arena} and returns a view of its data; Fortran-order arrays are refused. */
    public static Tensor read(Path file, Arena arena) throws IOException {
        return read(file, arena, Order.C_ONLY);
    }

    /** Maps {@code file} into {@code arena} and returns a view of its data, taking the memory orders {@code order} allows. */
    public static Tensor read(Path file, Arena arena, Order order) throws IOException {
        MemorySegment seg = map(file, arena);
        String fn = file.getFileName().toString();
        String name = fn.endsWith(".npy") ? fn.substring(0, fn.length() - 4) : fn;
        return parse(file, name, "", seg, order);
    }

    static MemorySegment map(Path file, Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
    }

    /**
     * Parses the npy bytes in {@code seg} (a whole file or one npz member). {@code prefix} is put in
     * front of every field name, so errors inside an npz name the member.
     */
    static Tensor parse(Path file, String name, String prefix, MemorySegment seg, Order order) throws FormatException {
        long size = seg.byteSize();
        if (size < 10 || MemorySegment.ofArray(MAGIC).mismatch(seg.asSlice(0, 6)) != -1) {
            throw new FormatException(file, prefix + "magic", "not a .npy file: expected \\x93NUMPY magic"
                    + (size < 10 ? " but only " + size + " bytes" : " but found " + hex(seg, Math.min(size, 6))));
        }
        int major = seg.get(ValueLayout.JAVA_BYTE, 6) & 0xFF;
        int minor = seg.get(ValueLayout.JAVA_BYTE, 7) & 0xFF;
        long headerLen;
        int headerStart;
        switch (major) {
            case 1 -> {
                headerLen = seg.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8) & 0xFFFF;
                headerStart = 10;
            }
            case 2, 3 -> {
                if (size < 12) throw new FormatException(file, prefix + "header_len", "file ends inside the header length (" + size + " bytes)");
                headerLen = seg.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 8) & 0xFFFFFFFFL;
                headerStart = 12;
            }
            default -> throw new FormatException(file, prefix + "version", "unsupported .npy format version " + major + "." + minor + " (1.0, 2.0 and 3.0 are supported)");
        }
        if (minor != 0) throw new FormatException(file, prefix + "version", "unsupported .npy format version " + major + "." + minor);
        if (headerLen > MAX_HEADER) throw new FormatException(file, prefix + "header_len", "header length " + headerLen + " exceeds the 1 MB limit");
        if (headerStart + headerLen > size) {
            throw new FormatException(file, prefix + "header_len", "header length " + headerLen + " runs past the end of the data (" + size + " bytes)");
        }
        byte[] hb = seg.asSlice(headerStart, headerLen).toArray(ValueLayout.JAVA_BYTE);
        // v1/v2 headers are latin1, v3 allows utf8; the keys and values we accept are ASCII either way
        String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Header h = new HeaderParser(file, prefix, header).parse();

        DType dtype;
        try {
            dtype = DType.fromNumpy(h.descr);
        } catch (IllegalArgumentException e) {
            throw new FormatException(file, prefix + "descr", e.getMessage());
        }
        if (h.fortranOrder && order == Order.C_ONLY) {
            throw new FormatException(file, prefix + "fortran_order", "fortran_order True is not supported here; save with np.ascontiguousarray(arr)");
        }
        long count;
        long bytes;
        try {
            count = Tensor.elementCount(name, h.shape);
            bytes = Math.multiplyExact(count, dtype.size());
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new FormatException(file, prefix + "shape", "shape " + Arrays.toString(h.shape) + " is too large");
        }
        long dataStart = headerStart + headerLen;
        long have = size - dataStart;
        if (have != bytes) {
            throw new FormatException(file, prefix + "data", "size mismatch: shape " + Arrays.toString(h.shape) + " x " + dtype.size()
                    + " bytes = " + bytes + " bytes expected but " + have + " bytes follow the header"
                    + (have > bytes ? " (trailing bytes)" : " (truncated)"));
        }
        // Fortran order of shape (a, b, ...) is byte for byte the C order of the reversed shape
        long[] shape = h.fortranOrder ? reversed(h.shape) : h.shape;
        return new Tensor(name, dtype, shape, seg.asSlice(dataStart, bytes), h.fortranOrder && h.shape.length > 1);
    }

    private static long[] reversed(long[] s) {
        long[] r = new long[s.length];
        for (int i = 0; i < s.length; i++) r[i] = s[s.length - 1 - i];
        return r;
    }

    private static String hex(MemorySegment seg, long n) {
        StringBuilder sb = new StringBuilder();
        for (long i = 0; i < n; i++) sb.append(String.format("%02x", seg.get(ValueLayout.JAVA_BYTE, i)));
        return sb.toString();
    }

    record Header(String descr, boolean fortranOrder, long[] shape) {}

    /**
     * Strict parser for the Python dict literal numpy writes, e.g.
     * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}. Exactly the three keys,
     * each once; anything else is an error rather than a guess.
     */
    static final class HeaderParser {
        private final Path file;
        private final String prefix;
        private final String s;
        private int pos;

        HeaderParser(Path file, String prefix, String s) {
            this.file = file;
            this.prefix = prefix;
            this.s = s;
        }

        Header parse() throws FormatException {
            String descr = null;
            Boolean fortran = null;
            long[] shape = null;
            skipWs();
            expect('{');
            while (true) {
                skipWs();
                if (peek() == '}') break;
                String key = string();
                skipWs();
                expect(':');
                skipWs();
                switch (key) {
                    case "descr" -> {
                        if (descr != null) throw bad("duplicate key 'descr'");
                        if (peek() == '[') {
                            throw new FormatException(file, prefix + "descr", "structured dtype is not supported; only f32 ('<f4') and f16 ('<f2') are supported");
                        }
                        descr = string();
                    }
                    case "fortran_order" -> {
                        if (fortran != null) throw bad("duplicate key 'fortran_order'");
                        fortran = bool();
                    }
                    case "shape" -> {
                        if (shape != null) throw bad("duplicate key 'shape'");
                        shape = tuple();
                    }
                    default -> throw bad("unexpected key '" + key + "'");
                }
                skipWs();
                if (peek() == ',') {
                    pos++;
                    continue;
                }
                skipWs();
                if (peek() != '}') throw bad("expected ',' or '}' at position " + pos);
            }
            expect('}');
            // numpy pads with spaces and ends with '\n'; nothing else may follow
            skipWs();
            if (pos != s.length()) throw bad("unexpected text after the dict at position " + pos);
            if (descr == null) throw bad("missing key 'descr'");
            if (fortran == null) throw bad("missing key 'fortran_order'");
            if (shape == null) throw bad("missing key 'shape'");
            return new Header(descr, fortran, shape);
        }

        private FormatException bad(String problem) {
            String shown = s.length() > 200 ? s.substring(0, 200) + "..." : s;
            return new FormatException(file, prefix + "header", "malformed header dict: " + problem + " in " + shown.strip());
        }

        private char peek() throws FormatException {
            if (pos >= s.length()) throw bad("unexpected end");
            return s.charAt(pos);
        }

        private void expect(char c) throws FormatException {
            if (peek() != c) throw bad("expected '" + c + "' at position " + pos + " but found '" + s.charAt(pos) + "'");
            pos++;
        }

        private void skipWs() {
            while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\n' || s.charAt(pos) == '\t' || s.charAt(pos) == '\r')) pos++;
        }

        private String string() throws FormatException {
            char q = peek();
            if (q != '\'' && q != '"') throw bad("expected a quoted string at position " + pos);
            int end = s.indexOf(q, pos + 1);
            if (end < 0) throw bad("unterminated string at position " + pos);
            String v = s.substring(pos + 1, end);
            if (v.indexOf('\\') >= 0) throw bad("escape sequences are not supported in '" + v + "'");
            pos = end + 1;
            return v;
        }

        private boolean bool() throws FormatException {
            if (s.startsWith("True", pos)) {
                pos += 4;
                return true;
            }
            if (s.startsWith("False", pos)) {
                pos += 5;
                return false;
            }
            throw bad("expected True or False at position " + pos);
        }

        private long[] tuple() throws FormatException {
            expect('(');
            List<Long> dims = new ArrayList<>();
            boolean trailingComma = false;
            while (true) {
                skipWs();
                if (peek() == ')') break;
                int start = pos;
                while (pos < s.length() && Character.isDigit(s.charAt(pos))) pos++;
                if (start == pos) throw bad("expected a non-negative integer in shape at position " + pos);
                if (pos - start > 18) throw new FormatException(file, prefix + "shape", "dimension " + s.substring(start, pos) + " is too large");
                dims.add(Long.parseLong(s.substring(start, pos)));
                if (dims.size() > 64) throw new FormatException(file, prefix + "shape", "more than 64 dimensions");
                skipWs();
                if (peek() == ',') {
                    pos++;
                    trailingComma = true;
                } else {
                    trailingComma = false;
                    if (peek() != ')') throw bad("expected ',' or ')' in shape at position " + pos);
                }
            }
            // Python needs (5,) for a 1-tuple; (5) is just an int
            if (dims.size() == 1 && !trailingComma) throw bad("shape (" + dims.get(0) + ") is not a tuple; expected (" + dims.get(0) + ",)");
            expect(')');
            long[] out = new long[dims.size()];
            for (int i = 0; i < out.length; i++) out[i] = dims.get(i);
            return out;
        }
    }
}
