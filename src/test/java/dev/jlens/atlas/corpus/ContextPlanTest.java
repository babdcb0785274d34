package dev.jlens.atlas.corpus;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

import static dev.jlens.atlas.corpus.CorpusFixtures.BOS;
import static dev.jlens.atlas.corpus.CorpusFixtures.CHARS;
import static dev.jlens.atlas.corpus.CorpusFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContextPlanTest {
    @TempDir Path dir;

    /** The tokens of {@code s} under {@link CorpusFixtures#CHARS}, BOS first. */
    private static int[] ctx(String s) {
        int[] out = new int[s.length() + 1];
        out[0] = BOS;
        for (int i = 0; i < s.length(); i++) out[i + 1] = s.charAt(i) + 10;
        return out;
    }

    private static CorpusSpec spec(Path input, int contextLength, long maxTokens) {
        return new CorpusSpec(input.toString(), CorpusFormat.AUTO, "text", false, contextLength, maxTokens);
    }

    private static List<CorpusContext> all(ContextPlan plan) throws IOException {
        List<CorpusContext> out = new ArrayList<>();
        plan.forEach(out::add);
        return out;
    }

    @Test
    void documentsAreCutIntoBosPrefixedChunksOfContextLengthMinusOne() throws IOException {
        // L = 4: 3 document tokens per context
        Path f = write(dir.resolve("a.txt"), "abcdefg\n\nxyz\nq\n");
        try (ContextPlan plan = ContextPlan.open(spec(f, 4, 0), CHARS, BOS)) {
            List<CorpusContext> got = all(plan);
            List<CorpusContext> want = List.of(
                    CorpusContext.of(0, 0, ctx("abc")),
                    CorpusContext.of(0, 1, ctx("def")),
                    CorpusContext.of(0, 2, ctx("g")),
                    // document 1 is blank: its id is used, it gives no context
                    CorpusContext.of(2, 0, ctx("xyz")),
                    CorpusContext.of(3, 0, ctx("q")));
            assertEquals(want, got);
            assertEquals(List.of(0L, 1L << 32, 2L << 32, 2L, 3L), got.stream().map(CorpusContext::id).toList());
            assertTrue(got.stream().allMatch(c -> c.length() <= 4 && c.tokens()[0] == BOS));
            CorpusCounters n = plan.counters();
            assertEquals(4, n.documents());
            assertEquals(1, n.emptyDocuments());
            assertEquals(5, n.contexts());
            assertEquals(7 + 3 + 1 + 5, n.tokens());
            assertEquals(7 + 3 + 1, n.nonBosTokens());
            assertFalse(n.capReached());
            assertEquals(Map.of(), n.skipped());
            assertNull(plan.next());
        }
    }

    @Test
    void chunkArithmeticAtTheEdges() {
        assertEquals(0, ContextCutter.chunkCount(0, 2));
        assertEquals(5, ContextCutter.chunkCount(5, 2)); // L = 2: one token per context
        assertEquals(1, ContextCutter.chunkCount(127, 128));
        assertEquals(2, ContextCutter.chunkCount(128, 128));
        assertEquals(2, ContextCutter.chunkCount(254, 128));
        assertEquals(3, ContextCutter.chunkCount(255, 128));
        ContextCutter cut = new ContextCutter(CHARS, BOS, 2);
        Document d = new Document(9, Path.of("x"), 1, "ab");
        assertEquals(List.of(CorpusContext.of(9, 0, ctx("a")), CorpusContext.of(9, 1, ctx("b"))), cut.cut(d));
        // exactly L - 1 tokens: one full context; L tokens: a second with one token
        ContextCutter c4 = new ContextCutter(CHARS, BOS, 4);
        assertEquals(List.of(CorpusContext.of(1, 0, ctx("abc"))), c4.cut(new Document(1, Path.of("x"), 1, "abc")));
        assertEquals(List.of(CorpusContext.of(1, 0, ctx("abc")), CorpusContext.of(1, 1, ctx("d"))),
                c4.cut(new Document(1, Path.of("x"), 1, "abcd")));
        assertEquals(List.of(), c4.cut(new Document(1, Path.of("x"), 1, "")));
    }

    @Test
    void contextIdsCarryTheChunkInTheUpper32BitsAndDocumentIdsMustFit() {
        long last = CorpusContext.MAX_DOCUMENTS - 1;
        CorpusContext c = CorpusContext.of(last, 7, ctx("a"));
        assertEquals(last + (7L << 32), c.id());
        assertEquals(last, CorpusContext.documentOf(c.id()));
        assertEquals(7, CorpusContext.chunkOf(c.id()));
        assertTrue(CorpusContext.idOf(last, Integer.MAX_VALUE) > 0);
        assertThrows(IllegalArgumentException.class, () -> CorpusContext.of(CorpusContext.MAX_DOCUMENTS, 0, ctx("a")));
        assertThrows(IllegalArgumentException.class, () -> CorpusContext.of(-1, 0, ctx("a")));
        assertThrows(IllegalArgumentException.class, () -> new CorpusContext(5, 4, 0, ctx("a")));
        assertThrows(IllegalArgumentException.class, () -> CorpusContext.of(1, 0, new int[] {BOS}));
    }

    @Test
    void aTokenizerThatAddsBosOrReturnsBadIdsIsCaught() throws IOException {
        Path f = write(dir.resolve("a.txt"), "abc\n");
        Tokenizer withBos = t -> new int[] {BOS, 20, 21};
        try (ContextPlan plan = ContextPlan.open(spec(f, 8, 0), withBos, BOS)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, plan::next);
            assertTrue(e.getMessage().contains("BOS"), e.getMessage());
            // the plan is failed, not silently finished
            assertThrows(IllegalStateException.class, plan::next);
        }
        try (ContextPlan plan = ContextPlan.open(spec(f, 8, 0), t -> new int[] {5, -1}, BOS)) {
            assertThrows(IllegalStateException.class, plan::next);
        }
        assertThrows(IllegalArgumentException.class, () -> new ContextCutter(CHARS, BOS, 1));
        assertThrows(IllegalArgumentException.class, () -> new ContextCutter(CHARS, -1, 8));
    }

    @Test
    void maxTokensStopsBeforeTheFirstContextThatWouldExceedIt() throws IOException {
        // L = 4; contexts (BOS included): "abc"->4, "de"->3, "fgh"->4, "i"->2 ; running totals 4, 7, 11, 13
        Path f = write(dir.resolve("a.txt"), "abcde\nfghi\n");
        int[][] expectTotals = {{3, 0}, {4, 1}, {6, 1}, {7, 2}, {10, 2}, {11, 3}, {12, 3}, {13, 4}, {14, 4}};
        for (int[] cap : expectTotals) {
            try (ContextPlan plan = ContextPlan.open(spec(f, 4, cap[0]), CHARS, BOS)) {
                List<CorpusContext> got = all(plan);
                assertEquals(cap[1], got.size(), "cap " + cap[0]);
                long tokens = got.stream().mapToLong(CorpusContext::length).sum();
                assertTrue(tokens <= cap[0]);
                assertEquals(tokens, plan.counters().tokens());
                assertEquals(cap[1] < 4, plan.counters().capReached(), "cap " + cap[0]);
            }
        }
        // the stop is final: a later, shorter context is not used to fill the budget
        Path g = write(dir.resolve("b.txt"), "abc\nxyzw\nq\n");
        try (ContextPlan plan = ContextPlan.open(spec(g, 8, 6), CHARS, BOS)) {
            assertEquals(List.of(CorpusContext.of(0, 0, ctx("abc"))), all(plan));
            assertTrue(plan.counters().capReached());
            assertEquals(2, plan.counters().documents());
        }
        // a cap equal to the corpus total is not "reached"
        try (ContextPlan plan = ContextPlan.open(spec(g, 8, 4 + 5 + 2), CHARS, BOS)) {
            assertEquals(3, all(plan).size());
            assertFalse(plan.counters().capReached());
        }
    }

    @Test
    void theIteratorYieldsTheSameContextsAndWrapsCorpusErrors() throws IOException {
        Path f = write(dir.resolve("a.txt"), "abcdef\nxy\n");
        List<CorpusContext> viaForEach;
        try (ContextPlan plan = ContextPlan.open(spec(f, 3, 0), CHARS, BOS)) {
            viaForEach = all(plan);
        }
        List<CorpusContext> viaIterator = new ArrayList<>();
        try (ContextPlan plan = ContextPlan.open(spec(f, 3, 0), CHARS, BOS)) {
            Iterator<CorpusContext> it = plan.iterator();
            while (it.hasNext()) viaIterator.add(it.next());
            assertThrows(IllegalStateException.class, plan::iterator);
        }
        assertEquals(viaForEach, viaIterator);
        assertEquals(4, viaIterator.size());

        Path bad = write(dir.resolve("b.jsonl"), "{\"text\": \"ok\"}\n{\"text\": 3}\n");
        try (ContextPlan plan = ContextPlan.open(spec(bad, 3, 0), CHARS, BOS)) {
            Iterator<CorpusContext> it = plan.iterator();
            assertEquals(CorpusContext.of(0, 0, ctx("ok")), it.next());
            UncheckedIOException e = assertThrows(UncheckedIOException.class, it::hasNext);
            CorpusException ce = assertInstanceOf(CorpusException.class, e.getCause());
            assertEquals(SkipReason.NOT_STRING, ce.reason());
            assertTrue(ce.getMessage().startsWith(bad + ": line 2: "), ce.getMessage());
        }
        CorpusSpec skip = new CorpusSpec(bad.toString(), CorpusFormat.AUTO, "text", true, 3, 0);
        try (ContextPlan plan = ContextPlan.open(skip, CHARS, BOS)) {
            assertEquals(1, all(plan).size());
            assertEquals(Map.of("not_string", 1L), plan.counters().skipped());
            assertEquals(1, plan.counters().skippedTotal());
            assertEquals(1, plan.counters().documents());
        }
        try (ContextPlan plan = ContextPlan.open(spec(f, 3, 0), CHARS, BOS)) {
            plan.close();
            assertThrows(IllegalStateException.class, plan::next);
        }
    }

    @Test
    void aLargeGzippedCorpusStreamsWithBoundedHeap() throws IOException {
        int lines = 200_000;
        String filler = "the quick brown fox jumps over the lazy dog ".repeat(10); // 440 chars
        Path f = dir.resolve("big.txt.gz");
        try (BufferedWriter w = new BufferedWriter(new OutputStreamWriter(new GZIPOutputStream(Files.newOutputStream(f), 1 << 16) {
            { def.setLevel(Deflater.BEST_SPEED); }
        }, StandardCharsets.UTF_8))) {
            for (int i = 0; i < lines; i++) {
                w.write(i % 1000 == 999 ? "" : i + " " + filler);
                w.write('\n');
            }
        }
        // ~90 MB of text, ~180 MB as Java char data if it were held
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        // one token per space-separated word
        Tokenizer words = text -> text.isEmpty() ? new int[0]
                : Arrays.stream(text.split(" ")).mapToInt(s -> 10 + (s.hashCode() & 0xFFFF)).toArray();
        long[] seen = new long[3];
        long maxUsedGrowth;
        System.gc();
        long before = mem.getHeapMemoryUsage().getUsed();
        long peak = 0;
        try (ContextPlan plan = ContextPlan.open(spec(f, 128, 0), words, BOS)) {
            long lastDoc = -1;
            Iterator<CorpusContext> it = plan.iterator();
            while (it.hasNext()) {
                CorpusContext c = it.next();
                seen[0]++;
                seen[1] += c.length();
                if (c.chunk() == 0) {
                    assertTrue(c.document() > lastDoc);
                    lastDoc = c.document();
                }
                if (seen[0] % 50_000 == 0) {
                    System.gc();
                    peak = Math.max(peak, mem.getHeapMemoryUsage().getUsed() - before);
                }
            }
            seen[2] = lastDoc;
            CorpusCounters n = plan.counters();
            assertEquals(lines, n.documents());
            assertEquals(lines / 1000, n.emptyDocuments());
            assertEquals(seen[0], n.contexts());
            assertEquals(seen[1], n.tokens());
            maxUsedGrowth = peak;
        }
        assertEquals(lines - 2, seen[2]); // the last line (index 199999) is blank
        // each non-blank line is 1 + 90 words = 91 tokens: one context of 92
        assertEquals(lines - lines / 1000, seen[0]);
        System.out.printf("streamed %d lines (%.0f MB of text): heap grew at most %.1f MiB%n",
                lines, lines * (filler.length() + 7) / 1e6, maxUsedGrowth / 1048576.0);
        assertTrue(maxUsedGrowth < 32L << 20, "heap grew by " + (maxUsedGrowth >> 20) + " MiB while streaming");
    }
}
