package dev.jlens.activations;

import dev.jlens.api.CaptureFolder;
import dev.jlens.api.LayerActivations;
import dev.jlens.api.LensModel;
import dev.jlens.api.LensSession;
import dev.jlens.formats.GgufMutator;
import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.toy.Vocabulary;
import dev.jlens.util.Progress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The one capture path (issue 15) on real llama.cpp with generated gemma2 files: BOS rows by position (issue 17 point
 * 4), control characters in tokens.csv (point 9), batches decoded exactly as planned.
 */
class CaptureSourceTest {
    @TempDir static Path dir;
    /** The tiny toy gemma2 whose BOS id is the id of the ordinary word "the" (a legal id, so the GGUF check passes). */
    static Path bosIsThe;
    static Path tiny;
    static int theId;
    static Model model;

    static final List<String> PROMPTS = List.of("the cat sat on the mat", "a dog saw the cat by the river");

    @BeforeAll
    static void files() throws IOException {
        tiny = GgufMutator.writeTiny(dir.resolve("tiny.gguf"));
        GgufMutator m = GgufMutator.read(tiny);
        theId = Arrays.asList((String[]) m.arrayValue("tokenizer.ggml.tokens")).indexOf(Vocabulary.SPACE + "the");
        assertTrue(theId > Vocabulary.BOS, "the tiny vocabulary has the word 'the'");
        bosIsThe = m.u32("tokenizer.ggml.bos_token_id", theId).write(dir.resolve("bos-is-the.gguf"));
        model = Model.load(bosIsThe, Model.Params.defaults());
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    @Test
    void theBosRowIsRow0OfEachPromptEvenWhenItsIdIsAnOrdinaryWord() {
        assertTrue(model.vocab().addsBos());
        assertEquals(theId, model.vocab().bos());
        TokenizedPrompts t = CaptureSource.tokenize(model.vocab(), PROMPTS, 64);
        assertEquals(theId, t.bosTokenId());
        int byId = 0, byPosition = 0;
        for (int p = 0; p < t.size(); p++) {
            int[] tk = t.tokens().get(p);
            assertEquals(theId, tk[0], "BOS first");
            for (int k = 0; k < tk.length; k++) {
                if (tk[k] == theId) byId++;
                if (t.isBosRow(p, k)) {
                    byPosition++;
                    assertEquals(0, k);
                }
            }
        }
        assertEquals(PROMPTS.size(), byPosition, "one BOS row per prompt");
        // the word "the" is tokenized to the BOS id too: an id rule would drop these real rows
        assertEquals(PROMPTS.size() + wordRows(t), byId);
        assertTrue(wordRows(t) >= 2, "the prompts hold the word 'the' as the BOS id: " + wordRows(t));
    }

    /** Rows after position 0 whose token is the BOS id: the word "the". */
    static int wordRows(TokenizedPrompts t) {
        int n = 0;
        for (int[] tk : t.tokens()) for (int k = 1; k < tk.length; k++) if (tk[k] == theId) n++;
        return n;
    }

    @Test
    void captureFolderEncodeAndApiAllKeepTheWordRows() throws IOException {
        Path out = dir.resolve("cap-bos");
        CaptureJob.run(model, PROMPTS, 5, out, Context.Params.defaults().withCtx(128).withUbatch(64).withThreads(2), Progress.NONE);
        var json = dev.jlens.util.Json.MAPPER.readTree(out.resolve("capture.json").toFile());
        assertEquals(theId, json.get("bos_token_id").asInt());
        assertTrue(json.get("bos_prepended").asBoolean());
        long rows = json.get("rows").asLong();
        boolean[] bos = EncodeJob.bosRows(out, rows);
        int n = 0;
        for (boolean b : bos) if (b) n++;
        assertEquals(PROMPTS.size(), n, "encode's metrics leave out only the BOS rows");

        try (LayerActivations back = CaptureFolder.read(out)) {
            assertEquals(rows, back.rows());
            int bosRows = 0, wordRows = 0;
            for (int r = 0; r < back.rows(); r++) {
                if (back.isBos(r)) {
                    bosRows++;
                    assertEquals(0, back.position(r));
                } else if (back.token(r) == theId) {
                    wordRows++;
                }
            }
            assertEquals(PROMPTS.size(), bosRows);
            assertEquals(wordRows(CaptureSource.tokenize(model.vocab(), PROMPTS, 64)), wordRows);
            assertTrue(wordRows >= 2);
        }
        try (LensModel lm = LensModel.load(bosIsThe); LensSession s = lm.newSession(128, 2); LayerActivations x = s.capture(PROMPTS, 5)) {
            int bosRows = 0;
            for (int r = 0; r < x.rows(); r++) if (x.isBos(r)) bosRows++;
            assertEquals(PROMPTS.size(), bosRows);
        }
    }

    @Test
    void controlCharactersInTokenTextAreEscapedInTokensCsv() throws IOException {
        Path out = dir.resolve("cap-ctl");
        // byte-fallback tokens: NUL, 0x01, ESC and DEL have no word in the vocabulary, so each becomes its byte token
        List<String> prompts = List.of("the cat\u0000sat", "a\u0001dog \u001b and \u007f end \\ back");
        try (Model m = Model.load(tiny, Model.Params.defaults())) {
            CaptureJob.run(m, prompts, 3, out, Context.Params.defaults().withCtx(128).withUbatch(64).withThreads(2), Progress.NONE);
        }
        byte[] csv = Files.readAllBytes(out.resolve("tokens.csv"));
        for (byte b : csv) assertTrue(b == '\n' || (b >= 0x20 && b != 0x7f), "raw control byte " + b + " in tokens.csv");
        List<String> lines = Files.readAllLines(out.resolve("tokens.csv"), StandardCharsets.UTF_8);
        long rows = dev.jlens.util.Json.MAPPER.readTree(out.resolve("capture.json").toFile()).get("rows").asLong();
        assertEquals(rows + 1, lines.size(), "one line per row");
        String all = String.join("\n", lines);
        for (String esc : List.of("\\u0000", "\\u0001", "\\u001b", "\\u007f", "\\\\")) assertTrue(all.contains(esc), esc + " in " + all);
        // read back: the texts of the folder's prompts are the prompts again
        var captured = CaptureFolders.open(out, out, null, null, dir.resolve("cache"));
        assertEquals(prompts.get(0), captured.prompts().get(0).text());
        assertEquals(prompts.get(1), captured.prompts().get(1).text());
    }

    @Test
    void escapesRoundTripEveryControlCharacterAndLeavePlainTextAlone() {
        StringBuilder b = new StringBuilder("x\\y\\\\u0041");
        for (char c = 0; c < 0xa0; c++) b.append(c);
        String s = b.toString();
        String e = TokensCsv.escape(s);
        for (char c : e.toCharArray()) assertFalse(Character.isISOControl(c), "control char " + (int) c + " left");
        assertEquals(s, TokensCsv.unescape(e));
        assertEquals(s, TokensCsv.text(dev.jlens.formats.Csv.cell(e)));
        assertEquals("Paris, France", TokensCsv.escape("Paris, France"));
        assertThrows(IllegalArgumentException.class, () -> TokensCsv.unescape("bad \\q"));
        assertThrows(IllegalArgumentException.class, () -> TokensCsv.unescape("short \\u00"));
    }

    @Test
    void eachPlannedBatchIsDecodedAsPlannedAndABatchOverTheLimitsIsRefused() {
        TokenizedPrompts t = CaptureSource.tokenize(model.vocab(), List.of("the cat", "a dog", "the river by the city", "bread"), 64);
        try (Context ctx = model.newContext(Context.Params.defaults().withCtx(64).withUbatch(64).withSeqMax(2).withThreads(2))) {
            CaptureSource src = new CaptureSource(ctx, 4);
            List<CaptureSource.Batch> plan = src.plan(t.tokens());
            assertEquals(List.of(new CaptureSource.Batch(0, 2), new CaptureSource.Batch(2, 4)), plan);
            try (Activations all = ctx.capture(t.tokens(), Context.CaptureSpec.layer(4));
                 Activations second = src.capture(t.tokens(), plan.get(1))) {
                int first = t.tokens().get(0).length + t.tokens().get(1).length;
                assertEquals(all.rows() - first, second.rows());
                for (int r = 0; r < second.rows(); r++) {
                    assertEquals(all.promptOf(first + r), second.promptOf(r), "global prompt indices");
                    assertArrayEquals(all.row(4, first + r), second.row(4, r), "row " + r + " bit for bit");
                }
            }
            var e = assertThrows(IllegalArgumentException.class, () -> src.capture(t.tokens(), new CaptureSource.Batch(0, 3)));
            assertTrue(e.getMessage().contains("exceeds this context's 2 prompts"), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> CaptureSource.tokenize(model.vocab(), List.of("the cat", " "), 64));
        assertEquals("prompt 1 is empty", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CaptureSource.tokenize(model.vocab(), List.of("the cat sat on the mat"), 4));
        assertTrue(e.getMessage().startsWith("prompt 0 has ") && e.getMessage().contains("more than the context size 4"), e.getMessage());
    }
}
