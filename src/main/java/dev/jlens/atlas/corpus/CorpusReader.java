package dev.jlens.atlas.corpus;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the documents of a list of corpus files in order, one at a time: memory holds one line (or one whole file)
 * and a 64 KiB buffer, whatever the corpus size. Not thread-safe.
 *
 * <p>Input: each file is gzip-decompressed when it starts with the bytes 1f 8b (whatever its name) and decoded as
 * strict UTF-8; one leading byte-order mark is dropped. Documents:
 * <ul>
 *   <li>{@link CorpusFormat#LINES}: one per line; lines end at {@code \n}, one {@code \r} before it is dropped; a
 *       last line without {@code \n} counts, an empty file has no line. A blank line is a document with empty
 *       text; other text is kept verbatim (no stripping).</li>
 *   <li>{@link CorpusFormat#JSONL}: as LINES, each line one JSON object whose top-level {@code textField} is a
 *       string; a blank (whitespace-only) line is a document with empty text.</li>
 *   <li>{@link CorpusFormat#WHOLE_FILES}: one per file, the text verbatim.</li>
 * </ul>
 * Ids: for line formats the global line index (file 0's lines first, then file 1's...), for whole files the file's
 * index. A rejected document still uses its id, so the ids of later documents do not depend on {@code skipBad}.
 *
 * <p>Bad input (see {@link SkipReason}) throws a {@link CorpusException} naming the file, the 1-based line and the
 * problem, or with {@code skipBad} is skipped, counted by reason and logged (the first
 * {@value #MAX_LOGGED_SKIPS}). A file containing a NUL byte (binary) or a gzip file that does not decompress is
 * rejected whole, before any of its documents is returned: each line file is scanned once for this before it is
 * read (a second pass over its bytes, cheap beside tokenization). For line formats such a file uses no ids (its
 * lines cannot be trusted to be lines), so the files after it are numbered as if it were absent; for whole files it
 * uses its file index like any other skipped document.
 */
public final class CorpusReader implements AutoCloseable {
    /** A line, or a whole file, longer than this many bytes is rejected as {@link SkipReason#TOO_LARGE}. */
    public static final int MAX_DOCUMENT_BYTES = 1 << 30;
    static final int MAX_LOGGED_SKIPS = 20;
    private static final System.Logger LOG = System.getLogger(CorpusReader.class.getName());
    /** Strict JSON: no comments, NaN or single quotes (Jackson's defaults), duplicate keys rejected, long texts allowed. */
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
            .build();

    private final List<Path> files;
    private final CorpusFormat format;
    private final String textField;
    private final boolean skipBad;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final CharBuffer scratch = CharBuffer.allocate(8192);
    private final long[] skipped = new long[SkipReason.values().length];
    private long skippedTotal;
    private long documents;
    private long nextLineId;
    private int fileIndex = -1;
    private LineFile current;
    private boolean closed;

    /**
     * A reader over {@code files} (in this order); nothing is opened until {@link #next()}.
     *
     * @param textField the JSON key holding the text (JSONL files only)
     * @param skipBad skip and count bad documents instead of failing
     */
    public CorpusReader(List<Path> files, CorpusFormat format, String textField, boolean skipBad) {
        this.files = List.copyOf(files);
        this.format = Objects.requireNonNull(format, "format");
        this.textField = Objects.requireNonNull(textField, "textField");
        this.skipBad = skipBad;
        if (this.files.isEmpty()) throw new IllegalArgumentException("no corpus files");
        if (textField.isEmpty()) throw new IllegalArgumentException("--text-field is empty");
    }

    /** A reader over {@code files} (from {@link CorpusSpec#resolve()}) with the spec's format, text field and skipBad. */
    public static CorpusReader open(CorpusSpec spec, List<Path> files) {
        return new CorpusReader(files, spec.format(), spec.textField(), spec.skipBad());
    }

    /** The files in reading order. */
    public List<Path> files() {
        return files;
    }

    /** The next document, or null at the end of the corpus. */
    public Document next() throws IOException {
        if (closed) throw new IllegalStateException("corpus reader is closed");
        while (true) {
            if (current != null) {
                Document d = nextLine();
                if (d != null) {
                    documents++;
                    return d;
                }
                closeCurrent();
            }
            if (fileIndex + 1 >= files.size()) return null;
            fileIndex++;
            Path file = files.get(fileIndex);
            CorpusFormat f = format.forFile(file);
            if (f == CorpusFormat.WHOLE_FILES) {
                Document d = wholeFile(file, fileIndex);
                if (d != null) {
                    documents++;
                    return d;
                }
            } else {
                openLines(file, f == CorpusFormat.JSONL);
            }
        }
    }

    /** Documents returned so far (blank ones included, skipped ones not). */
    public long documents() {
        return documents;
    }

    /** Documents (or whole files, for binary and corrupt gzip) skipped so far, by {@link SkipReason#code()}; only non-zero counts, sorted. */
    public Map<String, Long> skipped() {
        Map<String, Long> out = new TreeMap<>();
        for (SkipReason r : SkipReason.values()) {
            if (skipped[r.ordinal()] > 0) out.put(r.code(), skipped[r.ordinal()]);
        }
        return Collections.unmodifiableMap(out);
    }

    /** Total of {@link #skipped()}. */
    public long skippedTotal() {
        return skippedTotal;
    }

    @Override
    public void close() throws IOException {
        closed = true;
        closeCurrent();
    }

    // ---- line formats ----

    private record LineFile(Path file, boolean jsonl, LineSource source) {}

    private void openLines(Path file, boolean jsonl) throws IOException {
        CorpusException bad = scan(file);
        if (bad != null) {
            reject(bad);
            return;
        }
        Opened o = Opened.of(file);
        current = new LineFile(file, jsonl, new LineSource(o.in()));
    }

    private void closeCurrent() throws IOException {
        if (current != null) {
            LineFile c = current;
            current = null;
            c.source().close();
        }
    }

    private Document nextLine() throws IOException {
        LineSource src = current.source();
        Path file = current.file();
        while (src.next()) {
            long line = src.lineNo;
            long id = nextLineId++;
            try {
                if (src.tooLong) {
                    throw new CorpusException(file, line, SkipReason.TOO_LARGE, "line longer than " + MAX_DOCUMENT_BYTES + " bytes");
                }
                int from = line == 1 ? bomLength(src.line, src.length) : 0;
                String text = decode(file, line, src.line, from, src.length);
                if (current.jsonl()) text = text.isBlank() ? "" : jsonText(file, line, text);
                return new Document(id, file, line, text);
            } catch (CorpusException e) {
                reject(e);
            }
        }
        return null;
    }

    /** Reads a line file once: the first NUL byte, or a gzip stream that does not decompress, rejects it whole. */
    private CorpusException scan(Path file) throws IOException {
        long line = 1;
        Opened o;
        try {
            o = Opened.of(file);
        } catch (CorpusException e) {
            return e;
        }
        try (InputStream in = o.in()) {
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf, 0, buf.length)) >= 0) {
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (b == '\n') line++;
                    else if (b == 0) return binary(file, line);
                }
            }
        } catch (EOFException | ZipException e) {
            if (!o.gzip()) throw e;
            return corruptGzip(file, line, e);
        }
        return null;
    }

    // ---- whole files ----

    private Document wholeFile(Path file, int index) throws IOException {
        Opened o;
        try {
            o = Opened.of(file);
        } catch (CorpusException e) {
            reject(e);
            return null;
        }
        byte[] bytes;
        try (InputStream in = o.in()) {
            bytes = in.readNBytes(MAX_DOCUMENT_BYTES + 1);
        } catch (EOFException | ZipException e) {
            if (!o.gzip()) throw e;
            reject(corruptGzip(file, 1, e));
            return null;
        }
        try {
            if (bytes.length > MAX_DOCUMENT_BYTES) {
                throw new CorpusException(file, 1, SkipReason.TOO_LARGE, "file longer than " + MAX_DOCUMENT_BYTES + " bytes; read it by lines");
            }
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] == 0) throw binary(file, lineAt(bytes, i));
            }
            int from = bomLength(bytes, bytes.length);
            int bad = invalidUtf8(bytes, from, bytes.length);
            if (bad >= 0) {
                int lineStart = bad;
                while (lineStart > 0 && bytes[lineStart - 1] != '\n') lineStart--;
                throw invalidUtf8(file, lineAt(bytes, bad), bytes[bad], bad - lineStart);
            }
            return new Document(index, file, 1, new String(bytes, from, bytes.length - from, StandardCharsets.UTF_8));
        } catch (CorpusException e) {
            reject(e);
            return null;
        }
    }

    private static long lineAt(byte[] bytes, int offset) {
        long line = 1;
        for (int i = 0; i < offset; i++) if (bytes[i] == '\n') line++;
        return line;
    }

    // ---- decoding ----

    private String decode(Path file, long line, byte[] bytes, int from, int to) throws CorpusException {
        boolean ascii = true;
        for (int i = from; i < to; i++) {
            if (bytes[i] < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) return new String(bytes, from, to - from, StandardCharsets.ISO_8859_1);
        int bad = invalidUtf8(bytes, from, to);
        if (bad >= 0) throw invalidUtf8(file, line, bytes[bad], bad);
        // valid, so the lenient decoder gives exactly the strict result
        return new String(bytes, from, to - from, StandardCharsets.UTF_8);
    }

    /** The offset of the first malformed UTF-8 byte in {@code bytes[from, to)}, or -1. */
    private int invalidUtf8(byte[] bytes, int from, int to) {
        utf8.reset();
        ByteBuffer in = ByteBuffer.wrap(bytes, from, to - from);
        while (true) {
            scratch.clear();
            CoderResult r = utf8.decode(in, scratch, true);
            if (r.isError()) return in.position();
            if (r.isUnderflow()) return -1;
        }
    }

    private static int bomLength(byte[] b, int length) {
        return length >= 3 && (b[0] & 0xFF) == 0xEF && (b[1] & 0xFF) == 0xBB && (b[2] & 0xFF) == 0xBF ? 3 : 0;
    }

    // ---- JSONL ----

    /** The string value of the top-level text field of a one-object JSON line. */
    private String jsonText(Path file, long line, String json) throws IOException {
        JsonToken kind = null;
        String text = null;
        try (JsonParser p = JSON.createParser(json)) {
            JsonToken t = p.nextToken();
            if (t != JsonToken.START_OBJECT) {
                throw new CorpusException(file, line, SkipReason.NOT_JSON, "expected a JSON object, got " + describe(t));
            }
            for (t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals(textField)) {
                    kind = value;
                    if (value == JsonToken.VALUE_STRING) text = p.getText();
                }
                p.skipChildren(); // checks the nested value (and its keys) as it goes
            }
            if (p.nextToken() != null) {
                throw new CorpusException(file, line, SkipReason.NOT_JSON, "more than one JSON value on the line");
            }
        } catch (JsonProcessingException e) {
            String msg = e.getOriginalMessage();
            // STRICT_DUPLICATE_DETECTION reports "Duplicate field 'x'" (pinned by CorpusReaderTest)
            if (msg != null && msg.startsWith("Duplicate field")) {
                throw new CorpusException(file, line, SkipReason.DUPLICATE_KEY, "JSON object has a duplicate key: " + msg, e);
            }
            throw new CorpusException(file, line, SkipReason.NOT_JSON, "not valid JSON: " + msg, e);
        }
        if (kind == null) throw new CorpusException(file, line, SkipReason.MISSING_FIELD, "no field '" + textField + "'");
        if (kind != JsonToken.VALUE_STRING) {
            throw new CorpusException(file, line, SkipReason.NOT_STRING, "field '" + textField + "' is " + describe(kind) + ", not a string");
        }
        int lone = loneSurrogate(text);
        if (lone >= 0) {
            throw new CorpusException(file, line, SkipReason.LONE_SURROGATE, String.format(
                    "field '%s' has an unpaired surrogate \\u%04X at character %d (not encodable as UTF-8)",
                    textField, (int) text.charAt(lone), lone));
        }
        return text;
    }

    /** The index of the first unpaired surrogate in {@code s}, or -1. */
    static int loneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
                else return i;
            } else if (Character.isLowSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    private static String describe(JsonToken t) {
        if (t == null) return "nothing";
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }

    // ---- rejection ----

    private static CorpusException binary(Path file, long line) {
        return new CorpusException(file, line, SkipReason.BINARY, "NUL byte: a binary file, not text (rejected whole)");
    }

    private static CorpusException corruptGzip(Path file, long line, IOException e) {
        return new CorpusException(file, line, SkipReason.CORRUPT_GZIP,
                "gzip data does not decompress (" + e.getMessage() + "); the file is truncated or damaged (rejected whole)", e);
    }

    private static CorpusException invalidUtf8(Path file, long line, byte b, int column) {
        return new CorpusException(file, line, SkipReason.INVALID_UTF8,
                String.format("invalid UTF-8: byte 0x%02X at byte %d of the line", b & 0xFF, column));
    }

    /** Throws {@code e}, or with skipBad counts and logs it. */
    private void reject(CorpusException e) throws CorpusException {
        if (!skipBad || e.reason() == null) throw e;
        skipped[e.reason().ordinal()]++;
        skippedTotal++;
        if (skippedTotal <= MAX_LOGGED_SKIPS) {
            LOG.log(System.Logger.Level.WARNING, "skipped ({0}): {1}", e.reason().code(), e.getMessage());
            if (skippedTotal == MAX_LOGGED_SKIPS) {
                LOG.log(System.Logger.Level.WARNING, "further skipped documents are counted, not logged");
            }
        }
    }

    // ---- input ----

    /** A file's bytes, gunzipped when it starts with the gzip magic 1f 8b. */
    private record Opened(InputStream in, boolean gzip) {
        static Opened of(Path file) throws IOException {
            InputStream raw = Files.newInputStream(file);
            try {
                PushbackInputStream pb = new PushbackInputStream(raw, 2);
                byte[] magic = pb.readNBytes(2);
                pb.unread(magic);
                if (magic.length < 2 || (magic[0] & 0xFF) != 0x1F || (magic[1] & 0xFF) != 0x8B) return new Opened(pb, false);
                try {
                    return new Opened(new GZIPInputStream(pb, 1 << 16), true);
                } catch (EOFException | ZipException e) {
                    throw corruptGzip(file, 1, e);
                }
            } catch (IOException | RuntimeException | Error e) {
                raw.close();
                throw e;
            }
        }
    }

    /** Lines of a byte stream, split at '\n' with one '\r' before it dropped. */
    private static final class LineSource implements Closeable {
        private final InputStream in;
        private final byte[] buf = new byte[1 << 16];
        private int pos;
        private int lim;
        byte[] line = new byte[1024];
        int length;
        long lineNo;
        boolean tooLong;

        LineSource(InputStream in) {
            this.in = in;
        }

        /** Reads the next line into {@code line[0, length)}; false at the end of input. */
        boolean next() throws IOException {
            if (line.length > (1 << 20)) line = new byte[1024]; // do not keep a huge line's buffer
            length = 0;
            tooLong = false;
            boolean any = false;
            while (true) {
                if (pos == lim) {
                    int n = in.read(buf, 0, buf.length);
                    if (n < 0) {
                        if (!any) return false;
                        return endLine();
                    }
                    pos = 0;
                    lim = n;
                    continue;
                }
                any = true;
                int start = pos;
                while (pos < lim && buf[pos] != '\n') pos++;
                append(start, pos - start);
                if (pos < lim) {
                    pos++;
                    return endLine();
                }
            }
        }

        private boolean endLine() {
            lineNo++;
            if (!tooLong && length > 0 && line[length - 1] == '\r') length--;
            if (length > MAX_DOCUMENT_BYTES) {
                tooLong = true;
                length = 0;
            }
            return true;
        }

        private void append(int from, int n) {
            if (tooLong || n == 0) return;
            if ((long) length + n > MAX_DOCUMENT_BYTES + 1L) { // +1: room for the '\r' of a line of exactly the limit
                tooLong = true;
                length = 0;
                return;
            }
            if (length + n > line.length) {
                long grown = Math.max((long) length + n, 2L * line.length);
                line = java.util.Arrays.copyOf(line, (int) Math.min(grown, MAX_DOCUMENT_BYTES + 1L));
            }
            System.arraycopy(buf, from, line, length, n);
            length += n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
