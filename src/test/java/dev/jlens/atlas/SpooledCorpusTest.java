package dev.jlens.atlas;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.atlas.corpus.CorpusFormat;
import dev.jlens.atlas.corpus.CorpusSpec;
import dev.jlens.atlas.corpus.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The corpus is tokenized once per run: the spool gives back exactly the contexts and counters of the corpus
 * reader, pass after pass, without calling the tokenizer again; and the embedded engine refuses Parquet with a
 * pointer to the Spark job.
 */
class SpooledCorpusTest {
    static final int BOS = 1;

    /** One token per character (code point + 2), counting its calls. */
    static Tokenizer counting(AtomicLong calls) {
        return text -> {
            calls.incrementAndGet();
            return text.codePoints().map(c -> c + 2).toArray();
        };
    }

    static List<AtlasContext> all(ContextSource s) throws Exception {
        List<AtlasContext> l = new ArrayList<>();
        try (ContextSource.Pass p = s.open()) {
            for (AtlasContext c = p.next(); c != null; c = p.next()) l.add(c);
        }
        return l;
    }

    @Test
    void theSpoolReplaysTheReadersContextsAndCountersWithoutTokenizingAgain(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("c.txt");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 40; i++) b.append("line ").append(i).append(" ").append("x".repeat(i % 23)).append('\n');
        b.append('\n'); // an empty document
        Files.writeString(corpus, b);
        AtlasSettings s = AtlasSettings.defaults(0, 1).withContextLength(16).withBatching(64, 4);
        CorpusSpec spec = new CorpusSpec(corpus.toString(), CorpusFormat.LINES, "text", false, 16, 700);
        AtomicLong calls = new AtomicLong();
        List<AtlasContext> direct = all(new CorpusSource(spec, counting(new AtomicLong()), BOS, dir.resolve("h1")));
        CorpusSource source = new CorpusSource(spec, counting(calls), BOS, dir.resolve("h2"));
        SpooledCorpus sp = SpooledCorpus.spool(source, dir.resolve("spool.bin"), s);
        long afterSpool = calls.get();
        assertTrue(afterSpool > 0);
        assertEquals(direct.size(), sp.contexts());
        assertEquals(direct.stream().mapToLong(c -> c.tokens().length).sum(), sp.tokens());
        assertTrue(sp.tokens() <= 700, "--max-tokens applies as in the reader");
        for (int pass = 0; pass < 2; pass++) {
            List<AtlasContext> again = all(sp);
            assertEquals(direct.size(), again.size());
            for (int i = 0; i < direct.size(); i++) {
                assertEquals(direct.get(i).id(), again.get(i).id());
                assertEquals(direct.get(i).index(), again.get(i).index());
                assertArrayEquals(direct.get(i).tokens(), again.get(i).tokens());
            }
        }
        assertEquals(afterSpool, calls.get(), "passes over the spool never call the tokenizer");
        assertEquals(source.counters(), sp.counters());
        assertEquals(source.describe(), sp.describe());
        assertEquals(sp.contexts(), ((Number) sp.counters().get("contexts")).longValue(), sp.counters().toString());
        assertEquals(sp.tokens(), ((Number) sp.counters().get("tokens")).longValue(), sp.counters().toString());
        assertEquals(true, sp.counters().get("cap_reached"), "700 tokens is less than the corpus");
        sp.delete();
        assertFalse(Files.exists(dir.resolve("spool.bin")));
    }

    @Test
    void aContextLongerThanTheSettingsAllowIsRefusedWhileSpooling(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("c.txt");
        Files.writeString(corpus, "a long line of text\n");
        CorpusSpec spec = new CorpusSpec(corpus.toString(), CorpusFormat.LINES, "text", false, 32, 0);
        AtlasSettings s = AtlasSettings.defaults(0, 1).withContextLength(8).withBatching(64, 4);
        var e = assertThrows(IllegalArgumentException.class,
                () -> SpooledCorpus.spool(new CorpusSource(spec, counting(new AtomicLong()), BOS, dir.resolve("h")), dir.resolve("s.bin"), s));
        assertTrue(e.getMessage().contains("more than --context 8"), e.getMessage());
    }

    @Test
    void aCutSpoolIsAnErrorNotAShortCorpus(@TempDir Path dir) throws Exception {
        Path corpus = dir.resolve("c.txt");
        Files.writeString(corpus, "one\ntwo\nthree\n");
        CorpusSpec spec = new CorpusSpec(corpus.toString(), CorpusFormat.LINES, "text", false, 16, 0);
        Path f = dir.resolve("s.bin");
        SpooledCorpus sp = SpooledCorpus.spool(new CorpusSource(spec, counting(new AtomicLong()), BOS, dir.resolve("h")), f,
                AtlasSettings.defaults(0, 1).withContextLength(16).withBatching(64, 4));
        byte[] all = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(all, all.length - 6));
        try (ContextSource.Pass p = sp.open()) {
            var e = assertThrows(java.io.IOException.class, () -> {
                for (AtlasContext c = p.next(); c != null; c = p.next()) { /* read on */ }
            });
            assertTrue(e.getMessage().contains("ends early"), e.getMessage());
        }
        Files.write(f, all);
        assertEquals(3, all(sp).size());
        try (ContextSource.Pass p = sp.open()) {
            for (int i = 0; i < 3; i++) p.next();
            assertNull(p.next());
            assertNull(p.next(), "stays at the end");
        }
    }

    @Test
    void parquetInputIsRefusedByTheEmbeddedEngineWithTheSparkPathAndAConversion(@TempDir Path dir) throws Exception {
        Path named = dir.resolve("pile-10k.parquet");
        Files.writeString(named, "not even parquet inside");
        // a Parquet file by content: "PAR1", data, footer length, "PAR1"
        Path magic = dir.resolve("part-0000");
        Files.write(magic, new byte[] {'P', 'A', 'R', '1', 9, 9, 9, 9, 4, 0, 0, 0, 'P', 'A', 'R', '1'});
        for (Path p : List.of(named, magic)) {
            CorpusSpec spec = new CorpusSpec(p.toString(), CorpusFormat.AUTO, "text", false, 16, 0);
            var e = assertThrows(IllegalArgumentException.class, () -> new CorpusSource(spec, counting(new AtomicLong()), BOS, dir.resolve("h")));
            assertTrue(e.getMessage().contains("is a Parquet file") && e.getMessage().contains("--spark local[2]")
                    && e.getMessage().contains("read_parquet"), e.getMessage());
        }
        // a folder holding one is refused too; plain text starting with other bytes is read
        Path folder = Files.createDirectories(dir.resolve("mixed"));
        Files.writeString(folder.resolve("a.txt"), "PAR is a word\n");
        CorpusSpec ok = new CorpusSpec(folder.toString(), CorpusFormat.AUTO, "text", false, 16, 0);
        assertEquals(1, all(new CorpusSource(ok, counting(new AtomicLong()), BOS, dir.resolve("h"))).size());
        Files.copy(magic, folder.resolve("b.bin"));
        assertThrows(IllegalArgumentException.class, () -> new CorpusSource(ok, counting(new AtomicLong()), BOS, dir.resolve("h")));
    }
}
