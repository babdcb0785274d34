package dev.jlens.atlas.corpus;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.jlens.atlas.corpus.CorpusFixtures.concat;
import static dev.jlens.atlas.corpus.CorpusFixtures.gzip;
import static dev.jlens.atlas.corpus.CorpusFixtures.ids;
import static dev.jlens.atlas.corpus.CorpusFixtures.readAll;
import static dev.jlens.atlas.corpus.CorpusFixtures.texts;
import static dev.jlens.atlas.corpus.CorpusFixtures.utf8;
import static dev.jlens.atlas.corpus.CorpusFixtures.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CorpusReaderTest {
    @TempDir Path dir;

    @Test
    void linesSplitAtNewlineDropOneCarriageReturnAndKeepBlankLinesAsEmptyDocuments() throws IOException {
        Path f = write(dir.resolve("a.txt"), "one\ntwo\r\n\n  four  \na\rb\nx\r\r\nlast");
        List<Document> docs = readAll(List.of(f), CorpusFormat.LINES, false);
        assertEquals(List.of("one", "two", "", "  four  ", "a\rb", "x\r", "last"), texts(docs));
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L), ids(docs));
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), docs.stream().map(Document::line).toList());
        assertTrue(docs.stream().allMatch(d -> d.file().equals(f)));
        // a final newline ends the last line, it does not start another; "\n" alone is one blank line
        assertEquals(List.of("a", "b"), texts(readAll(List.of(write(dir.resolve("b.txt"), "a\r\nb\r\n")), CorpusFormat.LINES, false)));
        assertEquals(List.of(""), texts(readAll(List.of(write(dir.resolve("c.txt"), "\n")), CorpusFormat.LINES, false)));
    }

    @Test
    void idsAreGlobalLineIndicesAcrossFilesInOrder() throws IOException {
        Path a = write(dir.resolve("a.txt"), "a0\na1\na2\n");
        Path empty = write(dir.resolve("b.txt"), "");
        Path c = write(dir.resolve("c.txt"), "c0\n\nc2");
        List<Document> docs = readAll(List.of(a, empty, c), CorpusFormat.LINES, false);
        assertEquals(List.of("a0", "a1", "a2", "c0", "", "c2"), texts(docs));
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), ids(docs));
        assertEquals(c, docs.get(3).file());
        assertEquals(1L, docs.get(3).line());
        assertEquals(3L, docs.get(5).line());
    }

    @Test
    void gzipIsDetectedByMagicBytesNotBySuffix() throws IOException {
        Path gzippedTxt = write(dir.resolve("a.txt"), gzip("zipped one\nzipped two\n"));
        Path plainGz = write(dir.resolve("b.gz"), "plain one\n");
        // several gzip members concatenated (as `cat a.gz b.gz` makes) are one stream
        Path members = write(dir.resolve("c.txt.gz"), concat(gzip("m1\n"), gzip("m2\n")));
        List<Document> docs = readAll(List.of(gzippedTxt, plainGz, members), CorpusFormat.LINES, false);
        assertEquals(List.of("zipped one", "zipped two", "plain one", "m1", "m2"), texts(docs));
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), ids(docs));
        Path jsonGz = write(dir.resolve("d.jsonl.gz"), gzip("{\"text\":\"j\"}\n"));
        assertEquals(List.of("j"), texts(readAll(List.of(jsonGz), CorpusFormat.AUTO, false)));
        Path wholeGz = write(dir.resolve("e.bin"), gzip("whole\r\nfile\n"));
        assertEquals(List.of("whole\r\nfile\n"), texts(readAll(List.of(wholeGz), CorpusFormat.WHOLE_FILES, false)));
        // a one-byte file that starts like gzip is plain text
        assertEquals(List.of("\u001f"), texts(readAll(List.of(write(dir.resolve("f.txt"), new byte[] {0x1f})), CorpusFormat.LINES, false)));
    }

    @Test
    void aLeadingByteOrderMarkIsDroppedOnlyAtTheStartOfAFile() throws IOException {
        Path f = write(dir.resolve("a.txt"), "\uFEFFfirst\n\uFEFFsecond\n");
        assertEquals(List.of("first", "\uFEFFsecond"), texts(readAll(List.of(f), CorpusFormat.LINES, false)));
        Path w = write(dir.resolve("b.txt"), "\uFEFFwhole");
        assertEquals(List.of("whole"), texts(readAll(List.of(w), CorpusFormat.WHOLE_FILES, false)));
    }

    @Test
    void wholeFilesAreOneDocumentEachWithTheFileIndexAsId() throws IOException {
        Path a = write(dir.resolve("a.txt"), "line 1\r\nline 2\n");
        Path b = write(dir.resolve("b.txt"), "");
        Path c = write(dir.resolve("c.jsonl"), "{\"text\": \"not parsed\"}\n");
        List<Document> docs = readAll(List.of(a, b, c), CorpusFormat.WHOLE_FILES, false);
        assertEquals(List.of("line 1\r\nline 2\n", "", "{\"text\": \"not parsed\"}\n"), texts(docs));
        assertEquals(List.of(0L, 1L, 2L), ids(docs));
        assertTrue(docs.stream().allMatch(d -> d.line() == 1));
    }

    @Test
    void jsonlTakesTheTopLevelTextFieldChosenBySuffixOrExplicitly() throws IOException {
        String body = """
                {"text": "plain", "meta": {"text": 5, "list": [1, {"a": null}]}}
                {"id": 7, "text": "esc\\n\\"q\\" \\u00e9 \\ud83d\\ude00 caf\u00e9"}

                   \t
                {"text": ""}
                """;
        List<String> expected = List.of("plain", "esc\n\"q\" \u00e9 \uD83D\uDE00 caf\u00e9", "", "", "");
        for (String name : List.of("a.jsonl", "a.ndjson", "A.JSONL")) {
            Path f = write(dir.resolve(name), body);
            List<Document> docs = readAll(List.of(f), CorpusFormat.AUTO, false);
            assertEquals(expected, texts(docs), name);
            assertEquals(List.of(0L, 1L, 2L, 3L, 4L), ids(docs));
        }
        Path txt = write(dir.resolve("a.txt"), body);
        assertEquals(List.of("plain", "esc\n\"q\" \u00e9 \uD83D\uDE00 caf\u00e9", "", "", ""),
                texts(readAll(List.of(txt), CorpusFormat.JSONL, false)));
        // AUTO reads a .txt by lines, JSON and all
        assertEquals(body.lines().toList(), texts(readAll(List.of(txt), CorpusFormat.AUTO, false)));
        Path other = write(dir.resolve("b.jsonl"), "{\"content\": \"c\", \"text\": 1}\n");
        assertEquals(List.of("c"), texts(readAll(new CorpusReader(List.of(other), CorpusFormat.AUTO, "content", false))));
    }

    /** One bad line between two good ones, per case: the reason it must be rejected with. */
    private static Map<String, SkipReason> badJsonLines() {
        Map<String, SkipReason> m = new LinkedHashMap<>();
        m.put("[1, 2]", SkipReason.NOT_JSON);
        m.put("\"just a string\"", SkipReason.NOT_JSON);
        m.put("{\"text\": \"a\"", SkipReason.NOT_JSON);
        m.put("{\"text\": 'single'}", SkipReason.NOT_JSON);
        m.put("{\"text\": \"a\"} trailing", SkipReason.NOT_JSON);
        m.put("{\"text\": \"a\"} {\"text\": \"b\"}", SkipReason.NOT_JSON);
        m.put("{\"text\": \"a\", \"n\": NaN}", SkipReason.NOT_JSON);
        m.put("{\"other\": \"a\"}", SkipReason.MISSING_FIELD);
        m.put("{}", SkipReason.MISSING_FIELD);
        m.put("{\"meta\": {\"text\": \"nested only\"}}", SkipReason.MISSING_FIELD);
        m.put("{\"text\": 42}", SkipReason.NOT_STRING);
        m.put("{\"text\": null}", SkipReason.NOT_STRING);
        m.put("{\"text\": [\"a\"]}", SkipReason.NOT_STRING);
        m.put("{\"text\": {\"inner\": \"a\"}}", SkipReason.NOT_STRING);
        m.put("{\"text\": \"a\", \"text\": \"b\"}", SkipReason.DUPLICATE_KEY);
        m.put("{\"text\": \"a\", \"meta\": {\"k\": 1, \"k\": 2}}", SkipReason.DUPLICATE_KEY);
        m.put("{\"text\": \"lone \\ud800 high\"}", SkipReason.LONE_SURROGATE);
        m.put("{\"text\": \"lone \\udc00 low\"}", SkipReason.LONE_SURROGATE);
        m.put("{\"text\": \"high then letter \\ud800x\"}", SkipReason.LONE_SURROGATE);
        m.put("{\"text\": \"end \\ud83d\"}", SkipReason.LONE_SURROGATE);
        return m;
    }

    @Test
    void eachBadJsonLineFailsNamingFileLineAndProblemOrIsSkippedKeepingLaterIds() throws IOException {
        int n = 0;
        for (Map.Entry<String, SkipReason> c : badJsonLines().entrySet()) {
            Path f = write(dir.resolve("bad" + n++ + ".jsonl"), "{\"text\": \"before\"}\n" + c.getKey() + "\n{\"text\": \"after\"}\n");
            CorpusException e = assertThrows(CorpusException.class, () -> readAll(List.of(f), CorpusFormat.AUTO, false), c.getKey());
            assertEquals(c.getValue(), e.reason(), c.getKey() + ": " + e.getMessage());
            assertEquals(2L, e.line());
            assertTrue(e.getMessage().startsWith(f + ": line 2: "), e.getMessage());
            assertEquals(f, e.file());

            CorpusReader reader = new CorpusReader(List.of(f), CorpusFormat.AUTO, "text", true);
            List<Document> docs = readAll(reader);
            assertEquals(List.of("before", "after"), texts(docs), c.getKey());
            assertEquals(List.of(0L, 2L), ids(docs), c.getKey());
            assertEquals(Map.of(c.getValue().code(), 1L), reader.skipped(), c.getKey());
            assertEquals(2L, reader.documents());
        }
    }

    @Test
    void invalidUtf8FailsNamingFileLineAndByteOrIsSkipped() throws IOException {
        byte[][] bad = {
                {(byte) 0xC3, 0x28},                    // bad continuation
                {(byte) 0xC0, (byte) 0xAF},             // overlong '/'
                {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, // a surrogate encoded in UTF-8 (CESU-8)
                {'a', (byte) 0xE2, (byte) 0x82},        // truncated at the end of the line
                {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // above U+10FFFF
                {(byte) 0xFF},
        };
        int n = 0;
        for (byte[] b : bad) {
            for (CorpusFormat format : List.of(CorpusFormat.LINES, CorpusFormat.JSONL)) {
                byte[] line = format == CorpusFormat.JSONL ? concat(utf8("{\"text\": \""), b, utf8("\"}")) : b;
                Path f = write(dir.resolve("u" + n++ + ".txt"), concat(utf8(format == CorpusFormat.JSONL
                        ? "{\"text\": \"ok \u00e9\"}\n" : "ok \u00e9\n"), line, utf8("\n"), utf8(format == CorpusFormat.JSONL
                        ? "{\"text\": \"after\"}\n" : "after\n")));
                CorpusException e = assertThrows(CorpusException.class, () -> readAll(List.of(f), format, false));
                assertEquals(SkipReason.INVALID_UTF8, e.reason(), e.getMessage());
                assertTrue(e.getMessage().startsWith(f + ": line 2: invalid UTF-8: byte 0x"), e.getMessage());
                CorpusReader r = new CorpusReader(List.of(f), format, "text", true);
                List<Document> docs = readAll(r);
                assertEquals(List.of("ok \u00e9", "after"), texts(docs));
                assertEquals(List.of(0L, 2L), ids(docs));
                assertEquals(Map.of("invalid_utf8", 1L), r.skipped());
            }
        }
        Path f = write(dir.resolve("col.txt"), concat(utf8("abc"), new byte[] {(byte) 0xC3, 0x28}));
        CorpusException e = assertThrows(CorpusException.class, () -> readAll(List.of(f), CorpusFormat.LINES, false));
        assertTrue(e.getMessage().endsWith("byte 0xC3 at byte 3 of the line"), e.getMessage());
        // whole files name the line too
        Path w = write(dir.resolve("whole.txt"), concat(utf8("one\ntwo\nth"), new byte[] {(byte) 0xFF}, utf8("ree\n")));
        e = assertThrows(CorpusException.class, () -> readAll(List.of(w), CorpusFormat.WHOLE_FILES, false));
        assertTrue(e.getMessage().startsWith(w + ": line 3: invalid UTF-8: byte 0xFF at byte 2 of the line"), e.getMessage());
    }

    @Test
    void aBinaryFileFailsAtTheLineOfItsFirstNulOrIsSkippedWholeUsingNoIds() throws IOException {
        Path a = write(dir.resolve("a.txt"), "a0\na1\n");
        // NUL deep in the file, after lines that look fine: none of them may be returned
        Path bin = write(dir.resolve("b.txt"), concat(utf8("fine\nfine\n"), new byte[] {'x', 0, 'y'}, utf8("\nmore\n")));
        Path c = write(dir.resolve("c.txt"), "c0\nc1\n");
        CorpusException e = assertThrows(CorpusException.class, () -> readAll(List.of(a, bin, c), CorpusFormat.LINES, false));
        assertEquals(SkipReason.BINARY, e.reason());
        assertTrue(e.getMessage().startsWith(bin + ": line 3: NUL byte"), e.getMessage());

        CorpusReader r = new CorpusReader(List.of(a, bin, c), CorpusFormat.LINES, "text", true);
        List<Document> docs = readAll(r);
        assertEquals(List.of("a0", "a1", "c0", "c1"), texts(docs));
        // the binary file uses no ids: c's lines are numbered as if it were absent
        assertEquals(ids(readAll(List.of(a, c), CorpusFormat.LINES, false)), ids(docs));
        assertEquals(Map.of("binary", 1L), r.skipped());

        // gzipped binary is binary too; in JSONL the file is skipped the same way
        Path gzBin = write(dir.resolve("d.jsonl"), gzip(concat(utf8("{\"text\": \"x\"}\n"), new byte[] {0})));
        r = new CorpusReader(List.of(gzBin, c), CorpusFormat.AUTO, "text", true);
        assertEquals(List.of(0L, 1L), ids(readAll(r)));
        assertEquals(Map.of("binary", 1L), r.skipped());

        // as whole files the binary file uses its file index like any skipped document
        r = new CorpusReader(List.of(a, bin, c), CorpusFormat.WHOLE_FILES, "text", true);
        assertEquals(List.of(0L, 2L), ids(readAll(r)));
        assertEquals(Map.of("binary", 1L), r.skipped());
        e = assertThrows(CorpusException.class, () -> readAll(List.of(a, bin), CorpusFormat.WHOLE_FILES, false));
        assertTrue(e.getMessage().startsWith(bin + ": line 3: NUL byte"), e.getMessage());
    }

    @Test
    void aTruncatedGzipFileFailsOrIsSkippedWhole() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 2000; i++) sb.append("line ").append(i).append(" with some words to compress\n");
        byte[] gz = gzip(sb.toString());
        Path cut = write(dir.resolve("cut.txt"), Arrays.copyOf(gz, gz.length / 2));
        Path c = write(dir.resolve("c.txt"), "c0\n");
        CorpusException e = assertThrows(CorpusException.class, () -> readAll(List.of(cut, c), CorpusFormat.LINES, false));
        assertEquals(SkipReason.CORRUPT_GZIP, e.reason());
        assertTrue(e.getMessage().startsWith(cut + ": line "), e.getMessage());
        CorpusReader r = new CorpusReader(List.of(cut, c), CorpusFormat.LINES, "text", true);
        List<Document> docs = readAll(r);
        assertEquals(List.of("c0"), texts(docs));
        assertEquals(List.of(0L), ids(docs));
        assertEquals(Map.of("corrupt_gzip", 1L), r.skipped());
        // a damaged CRC is caught too
        byte[] badCrc = gz.clone();
        badCrc[badCrc.length - 6] ^= 0x55;
        Path crc = write(dir.resolve("crc.txt"), badCrc);
        e = assertThrows(CorpusException.class, () -> readAll(List.of(crc), CorpusFormat.WHOLE_FILES, false));
        assertEquals(SkipReason.CORRUPT_GZIP, e.reason());
        // only the header
        Path header = write(dir.resolve("h.txt"), Arrays.copyOf(gz, 5));
        e = assertThrows(CorpusException.class, () -> readAll(List.of(header), CorpusFormat.LINES, false));
        assertEquals(SkipReason.CORRUPT_GZIP, e.reason());
        assertTrue(e.getMessage().startsWith(header + ": line 1: "), e.getMessage());
    }

    @Test
    void skippedCountsAddUpByReasonOverAMixedCorpus() throws IOException {
        Path a = write(dir.resolve("a.jsonl"), "{\"text\":\"ok\"}\n{\"text\":1}\n{\"x\":\"y\"}\n{\"text\":2}\n");
        Path b = write(dir.resolve("b.jsonl"), concat(utf8("{\"text\":\"ok2\"}\n"), new byte[] {(byte) 0xC3, '\n'}, utf8("nope\n")));
        Path bin = write(dir.resolve("c.txt"), new byte[] {'a', 0});
        CorpusReader r = new CorpusReader(List.of(a, b, bin), CorpusFormat.AUTO, "text", true);
        List<Document> docs = readAll(r);
        assertEquals(List.of(0L, 4L), ids(docs));
        assertEquals(Map.of("binary", 1L, "invalid_utf8", 1L, "missing_field", 1L, "not_json", 1L, "not_string", 2L), r.skipped());
        assertEquals(6L, r.skippedTotal());
        assertEquals(List.of("binary", "invalid_utf8", "missing_field", "not_json", "not_string"), List.copyOf(r.skipped().keySet()));
    }

    @Test
    void aReaderIsUsableOnlyUntilClosed() throws IOException {
        Path f = write(dir.resolve("a.txt"), "a\nb\n");
        CorpusReader r = new CorpusReader(List.of(f), CorpusFormat.LINES, "text", false);
        assertEquals("a", r.next().text());
        r.close();
        assertThrows(IllegalStateException.class, r::next);
        assertTrue(Files.exists(f));
        assertThrows(IllegalArgumentException.class, () -> new CorpusReader(List.of(), CorpusFormat.LINES, "text", false));
    }
}
