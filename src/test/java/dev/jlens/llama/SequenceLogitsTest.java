package dev.jlens.llama;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class SequenceLogitsTest {
    static Model model;

    @BeforeAll
    static void load() { model = Model.load(TinyModel.f32()); }

    @AfterAll
    static void close() { model.close(); }

    @Test
    void everyRowEqualsTheNextTokenLogitsOfItsPrefix() {
        int[] seq = model.vocab().tokenize("the capital of France is Paris and a cat");
        try (Context c = model.newContext(Context.Params.defaults().withCtx(64).withThreads(2).withF32KvCache(true))) {
            float[][] rows = c.logitsForSequence(seq);
            assertEquals(seq.length, rows.length);
            double worst = 0;
            for (int i = 0; i < seq.length; i++) {
                float[] ref = c.nextTokenLogits(java.util.Arrays.copyOf(seq, i + 1));
                assertEquals(ref.length, rows[i].length);
                for (int k = 0; k < ref.length; k++) worst = Math.max(worst, Math.abs(ref[k] - rows[i][k]));
            }
            // one batch vs growing prefixes: same math, only f32 accumulation order may differ
            assertTrue(worst < 1e-3, "largest logit difference " + worst);
        }
    }

    @Test
    void emptyTooLongAndOutOfVocabularySequencesAreRejected() {
        try (Context c = model.newContext(Context.Params.defaults().withCtx(16).withSeqMax(1).withThreads(2))) {
            assertThrows(IllegalArgumentException.class, () -> c.logitsForSequence(new int[0]));
            var e = assertThrows(IllegalArgumentException.class, () -> c.logitsForSequence(new int[17]));
            assertTrue(e.getMessage().contains("17 tokens"), e.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> c.logitsForSequence(new int[] {2, model.vocab().size()}));
            assertTrue(e2.getMessage().contains("out of range"), e2.getMessage());
        }

    }
}
