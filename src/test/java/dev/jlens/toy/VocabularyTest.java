package dev.jlens.toy;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class VocabularyTest {
    private static final List<String> WORDS = List.of("The", "capital", "of", "France", "is", "Paris", "Fr", "an", "and");

    @Test
    void specialAndByteTokensSitAtGemmaIds() {
        Vocabulary v = Vocabulary.build(WORDS, 1000);
        assertEquals(List.of("<pad>", "<eos>", "<bos>", "<unk>"), v.tokens().subList(0, 4));
        int[] types = v.tokenTypes();
        assertArrayEquals(new int[] {Vocabulary.CONTROL, Vocabulary.CONTROL, Vocabulary.CONTROL, Vocabulary.UNKNOWN},
                java.util.Arrays.copyOf(types, 4));
        for (int b = 0; b < 256; b++) {
            assertEquals(String.format("<0x%02X>", b), v.token(4 + b));
            assertEquals(Vocabulary.BYTE, types[4 + b]);
        }
        assertEquals("<0x0A>", v.token(14));   // llama.cpp finds the SPM newline token by this text
        assertEquals(Vocabulary.NORMAL, types[260]);
        assertEquals(Vocabulary.SPACE, v.token(260));
    }

    @Test
    void tokensAreUniqueAndSizeIsExact() {
        for (int size : new int[] {600, 5000}) {
            Vocabulary v = Vocabulary.build(WORDS, size);
            assertEquals(size, v.size());
            assertEquals(size, new HashSet<>(v.tokens()).size());
            assertEquals(size, v.scores().length);
            assertEquals(size, v.tokenTypes().length);
        }
    }

    @Test
    void everyWordIsOneTokenWithAndWithoutLeadingSpace() {
        Vocabulary v = Vocabulary.build(WORDS, 1000);
        for (String w : WORDS) {
            assertTrue(v.id(w).isPresent(), w);
            assertTrue(v.id(Vocabulary.SPACE + w).isPresent(), w);
        }
        int[] ids = v.encode("The capital of France is Paris");
        String[] expect = {"<bos>", "The", "▁capital", "▁of", "▁France", "▁is", "▁Paris"};
        assertEquals(expect.length, ids.length);
        for (int i = 0; i < expect.length; i++) assertEquals(expect[i], v.token(ids[i]), "token " + i);
    }

    @Test
    void longerPiecesScoreHigherSoMergesGrowWholeWords() {
        Vocabulary v = Vocabulary.build(WORDS, 1000);
        float[] s = v.scores();
        assertTrue(s[v.id("▁France").getAsInt()] > s[v.id("▁Fra").getAsInt()]);
        assertTrue(s[v.id("▁Fra").getAsInt()] > s[v.id("an").getAsInt()]);
        // "an" and "Fr" are words too, yet "France" must not split into them
        int[] ids = v.encode("of France");
        assertEquals("▁France", v.token(ids[ids.length - 1]));
    }

    @Test
    void unknownCharactersFallBackToUtf8ByteTokens() {
        Vocabulary v = Vocabulary.build(WORDS, 1000);
        int[] ids = v.encode("é");   // not in the vocabulary: bytes C3 A9
        assertArrayEquals(new int[] {Vocabulary.BOS, 4 + 0xC3, 4 + 0xA9}, ids);
    }

    @Test
    void tooSmallSizeAndBadWordsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Vocabulary.build(WORDS, 300));
        assertTrue(e.getMessage().contains("300"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.build(List.of("two words"), 1000));
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.build(List.of(""), 1000));
    }
}
