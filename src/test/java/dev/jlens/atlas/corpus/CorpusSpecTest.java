package dev.jlens.atlas.corpus;

import dev.jlens.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static dev.jlens.atlas.corpus.CorpusFixtures.gzip;
import static dev.jlens.atlas.corpus.CorpusFixtures.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CorpusSpecTest {
    @TempDir Path dir;

    private static void rejects(String option, String value, Runnable make) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make::run);
        assertTrue(e.getMessage().contains(option), e.getMessage());
        assertTrue(e.getMessage().contains(value), e.getMessage());
    }

    @Test
    void badValuesFailBeforeAnyFileIsReadNamingOptionAndValue() {
        // the inputs do not exist: validation must not need them
        rejects("--context-length", "1", () -> new CorpusSpec("nowhere/*.txt", CorpusFormat.AUTO, "text", false, 1, 0));
        rejects("--context-length", "-5", () -> new CorpusSpec("nowhere/*.txt", CorpusFormat.AUTO, "text", false, -5, 0));
        rejects("--max-tokens", "-1", () -> new CorpusSpec("nowhere/*.txt", CorpusFormat.AUTO, "text", false, 128, -1));
        rejects("--text-field", "''", () -> new CorpusSpec("nowhere/*.txt", CorpusFormat.JSONL, "", false, 128, 0));
        rejects("--format", "missing", () -> new CorpusSpec("nowhere/*.txt", null, "text", false, 128, 0));
        rejects("--corpus", "empty", () -> new CorpusSpec(" ", CorpusFormat.AUTO, "text", false, 128, 0));
        rejects("--corpus", "data/[ab.txt", () -> CorpusSpec.of("data/[ab.txt"));
        rejects("--format", "'xml'", () -> CorpusFormat.parse("xml"));
        assertEquals(CorpusFormat.WHOLE_FILES, CorpusFormat.parse("Whole-Files"));
        CorpusSpec ok = CorpusSpec.of("nowhere/*.txt");
        assertEquals(new CorpusSpec("nowhere/*.txt", CorpusFormat.AUTO, "text", false, 128, 0), ok);
        assertEquals(2, new CorpusSpec("x", CorpusFormat.LINES, "text", true, 2, 1).contextLength());
    }

    @Test
    void describeListsAbsolutePathsSizesAndSha256InReadingOrder() throws IOException, NoSuchAlgorithmException {
        Path b = write(dir.resolve("corpus/b.txt"), "bbb\n");
        Path a = write(dir.resolve("corpus/a.txt"), gzip("aaaa\n"));
        CorpusSpec spec = new CorpusSpec("corpus", CorpusFormat.LINES, "text", true, 64, 1000);
        List<Path> files = spec.resolve(dir);
        assertEquals(List.of(a, b), files);
        Map<String, Object> m = spec.describe(files);
        assertEquals(List.of("inputs", "format", "text_field", "skip_bad", "context_length", "max_tokens", "files"),
                List.copyOf(m.keySet()));
        assertEquals("corpus", m.get("inputs"));
        assertEquals("lines", m.get("format"));
        assertEquals(true, m.get("skip_bad"));
        assertEquals(64, m.get("context_length"));
        assertEquals(1000L, m.get("max_tokens"));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> listed = (List<Map<String, Object>>) m.get("files");
        assertEquals(2, listed.size());
        for (int i = 0; i < 2; i++) {
            Path f = files.get(i);
            Map<String, Object> e = listed.get(i);
            assertEquals(List.of("path", "size", "sha256"), List.copyOf(e.keySet()));
            assertEquals(f.toAbsolutePath().toString(), e.get("path"));
            assertEquals(Files.size(f), e.get("size"));
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
            assertEquals(sha, e.get("sha256"));
        }
        // stable: the same corpus describes to the same JSON, with or without a hash cache
        String json = Json.MAPPER.writeValueAsString(m);
        assertEquals(json, Json.MAPPER.writeValueAsString(spec.describe(spec.resolve(dir), dir.resolve("cache"))));
        assertEquals(json, Json.MAPPER.writeValueAsString(spec.describe(spec.resolve(dir), dir.resolve("cache"))));
        assertTrue(json.contains("\"text_field\" : \"text\""), json);
    }
}
