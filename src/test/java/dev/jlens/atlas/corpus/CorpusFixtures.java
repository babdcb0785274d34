package dev.jlens.atlas.corpus;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/** Writing corpus files and reading them back, for the corpus tests. */
final class CorpusFixtures {
    private CorpusFixtures() {}

    /** One token per UTF-16 char: id = char + 10, so no text token can be the BOS below. */
    static final Tokenizer CHARS = text -> text.chars().map(c -> c + 10).toArray();
    static final int BOS = 2;

    static Path write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, bytes);
        return file;
    }

    static Path write(Path file, String text) throws IOException {
        return write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] gzip(byte[] bytes) {
        try {
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
                gz.write(bytes);
            }
            return bos.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] gzip(String text) {
        return gzip(text.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        for (byte[] p : parts) bos.writeBytes(p);
        return bos.toByteArray();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Every document of {@code files}. */
    static List<Document> readAll(List<Path> files, CorpusFormat format, boolean skipBad) throws IOException {
        return readAll(new CorpusReader(files, format, "text", skipBad));
    }

    static List<Document> readAll(CorpusReader reader) throws IOException {
        try (reader) {
            List<Document> out = new ArrayList<>();
            for (Document d = reader.next(); d != null; d = reader.next()) out.add(d);
            return out;
        }
    }

    static List<String> texts(List<Document> docs) {
        return docs.stream().map(Document::text).toList();
    }

    static List<Long> ids(List<Document> docs) {
        return docs.stream().map(Document::id).toList();
    }
}
