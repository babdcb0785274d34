package dev.jlens.atlas.corpus;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static dev.jlens.atlas.corpus.CorpusFixtures.gzip;
import static dev.jlens.atlas.corpus.CorpusFixtures.readAll;
import static dev.jlens.atlas.corpus.CorpusFixtures.texts;
import static dev.jlens.atlas.corpus.CorpusFixtures.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Reading a folder of files is reading their concatenation; cutting a corpus loses and invents no token. */
class CorpusPropertiesTest {
    private static Path scratch;
    private static int runs;

    @BeforeContainer
    static void makeScratch() throws IOException {
        scratch = Files.createTempDirectory("jlens-corpus-props");
    }

    @AfterContainer
    static void removeScratch() throws IOException {
        try (Stream<Path> s = Files.walk(scratch)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** Lines of mixed scripts (ASCII, Latin-1, CJK, emoji as surrogate pairs), tabs and stray carriage returns. */
    @Provide
    Arbitrary<List<List<String>>> files() {
        Arbitrary<Integer> codePoint = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(10, Arbitraries.integers().between(0x20, 0x7E)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0xA0, 0x17F)),
                net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(0x4E00, 0x4FFF)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(0x1F600, 0x1F64F)),
                net.jqwik.api.Tuple.of(1, Arbitraries.of((int) '\t', (int) '\r', 0xFEFF)));
        Arbitrary<String> line = codePoint.list().ofMaxSize(40)
                .map(cps -> new String(cps.stream().mapToInt(Integer::intValue).toArray(), 0, cps.size()));
        return line.list().ofMaxSize(12).list().ofMinSize(1).ofMaxSize(6);
    }

    @Property(tries = 150)
    void aFolderReadsLikeTheConcatenationOfItsFiles(@ForAll("files") List<List<String>> files,
                                                    @ForAll boolean crlf, @ForAll("gzipMask") int gzipMask) throws IOException {
        Path root = scratch.resolve("run" + runs++);
        Path folder = root.resolve("corpus");
        Files.createDirectories(folder);
        ByteArrayOutputStream concat = new ByteArrayOutputStream();
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            StringBuilder sb = new StringBuilder();
            for (String l : files.get(i)) {
                sb.append(l).append(crlf ? "\r\n" : "\n");
                String e = crlf || !l.endsWith("\r") ? l : l.substring(0, l.length() - 1);
                // a byte-order mark is dropped at the start of a file, kept elsewhere
                expected.add(e);
            }
            byte[] bytes = utf8(sb.toString());
            concat.writeBytes(bytes);
            boolean gz = (gzipMask >> i & 1) == 1;
            Files.write(folder.resolve(String.format("part-%03d.txt", i)), gz ? gzip(bytes) : bytes);
        }
        Path whole = Files.write(root.resolve("all.txt"), concat.toByteArray());
        List<Document> fromFolder = readAll(CorpusFiles.resolve(folder.toString()), CorpusFormat.LINES, false);
        List<Document> fromConcat = readAll(List.of(whole), CorpusFormat.LINES, false);
        List<String> folderTexts = texts(fromFolder);
        List<String> concatTexts = texts(fromConcat);
        // BOMs: the reader drops one at the start of each file; align the model and the concatenation with that
        List<String> model = new ArrayList<>(expected);
        int index = 0;
        for (List<String> f : files) {
            if (!f.isEmpty() && model.get(index).startsWith("\uFEFF")) model.set(index, model.get(index).substring(1));
            index += f.size();
        }
        assertEquals(model, folderTexts);
        List<String> concatModel = new ArrayList<>(expected);
        if (!concatModel.isEmpty() && concatModel.getFirst().startsWith("\uFEFF")) concatModel.set(0, concatModel.getFirst().substring(1));
        assertEquals(concatModel, concatTexts);
        // ids: the same global line index either way
        assertEquals(fromConcat.stream().map(Document::id).toList(), fromFolder.stream().map(Document::id).toList());

        // cutting loses and invents no token: the contexts of each document, BOS removed, concatenate to its tokens
        CorpusSpec spec = new CorpusSpec(folder.toString(), CorpusFormat.LINES, "text", false, 2 + runs % 7, 0);
        List<Integer> fromContexts = new ArrayList<>();
        try (ContextPlan plan = ContextPlan.open(spec, CorpusFixtures.CHARS, CorpusFixtures.BOS)) {
            plan.forEach(c -> {
                for (int k = 1; k < c.tokens().length; k++) fromContexts.add(c.tokens()[k]);
            });
        }
        List<Integer> direct = new ArrayList<>();
        for (String t : folderTexts) for (int tok : CorpusFixtures.CHARS.tokenize(t)) direct.add(tok);
        assertEquals(direct, fromContexts);
    }

    @Provide
    Arbitrary<Integer> gzipMask() {
        return Arbitraries.integers().between(0, 63);
    }
}
