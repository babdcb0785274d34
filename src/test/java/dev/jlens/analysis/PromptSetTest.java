package dev.jlens.analysis;

import dev.jlens.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptSetTest {
    private static final List<String> FACETS = List.of("cuisine", "geography", "history", "landmarks",
            "language_culture", "people", "politics", "sport");
    /** Words that would leak the target concept, or another country, into the control set. */
    private static final Pattern COUNTRY_WORDS = Pattern.compile(
            "\\b(france|french|paris|parisian|europe|european|japan|japanese|tokyo|english|england|britain|british"
                    + "|spain|spanish|italy|italian|germany|german|china|chinese|america|american|canada|mexico"
                    + "|brazil|india|russia|turkey|greece|greek|africa|asia)\\b",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern FRANCE_WORDS = Pattern.compile("\\b(france|french|paris|parisian)\\b", Pattern.CASE_INSENSITIVE);

    @TempDir Path dir;

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private Path write(String name, String text) throws IOException {
        return write(name, text.getBytes(StandardCharsets.UTF_8));
    }

    private static Map<String, Integer> facetCounts(PromptSet set) {
        Map<String, Integer> counts = new TreeMap<>();
        for (PromptSet.Prompt p : set.prompts()) counts.merge(p.facet(), 1, Integer::sum);
        return counts;
    }

    @Test
    void builtinSetsHave200And200And40Prompts() throws IOException {
        assertEquals(200, PromptSet.builtin("france").size());
        assertEquals(200, PromptSet.builtin("neutral").size());
        assertEquals(40, PromptSet.builtin("distractor").size());
    }

    @Test
    void everyFranceFacetHas25PromptsAndDistractorMirrorsTheFacets() throws IOException {
        Map<String, Integer> france = facetCounts(PromptSet.builtin("france"));
        assertEquals(FACETS, List.copyOf(france.keySet()));
        for (String f : FACETS) assertEquals(25, france.get(f), f);
        Map<String, Integer> distractor = facetCounts(PromptSet.builtin("distractor"));
        assertEquals(FACETS, List.copyOf(distractor.keySet()));
        for (String f : FACETS) assertEquals(5, distractor.get(f), f);
        assertEquals(Map.of("neutral", 200), facetCounts(PromptSet.builtin("neutral")));
    }

    @Test
    void neutralPromptsNeverMentionFranceOrAnyOtherCountry() throws IOException {
        for (PromptSet.Prompt p : PromptSet.builtin("neutral").prompts()) {
            assertTrue(!COUNTRY_WORDS.matcher(p.text()).find(), "neutral prompt names a place: " + p.text());
        }
        for (PromptSet.Prompt p : PromptSet.builtin("distractor").prompts()) {
            assertTrue(!FRANCE_WORDS.matcher(p.text()).find(), "distractor prompt mentions France: " + p.text());
        }
    }

    @Test
    void countryWordFilterCatchesALeak() {
        // guards the guard: the pattern must flag the words it is meant to flag, whole words only
        assertTrue(COUNTRY_WORDS.matcher("We ate French toast").find());
        assertTrue(COUNTRY_WORDS.matcher("a trip to PARIS").find());
        assertTrue(!COUNTRY_WORDS.matcher("the parish church").find());
    }

    @Test
    void builtinPromptsAreShortDistinctSentences() throws IOException {
        for (String name : PromptSet.BUILTIN) {
            PromptSet set = PromptSet.builtin(name);
            assertEquals(List.of(), set.duplicates(), name);
            Set<String> seen = new HashSet<>();
            for (PromptSet.Prompt p : set.prompts()) {
                int words = p.text().split("\\s+").length;
                assertTrue(words >= 6 && words <= 16, name + ": " + words + " words: " + p.text());
                assertTrue(seen.add(p.text().toLowerCase()), name + ": repeated " + p.text());
            }
        }
    }

    @Test
    void unknownBuiltinNameIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PromptSet.builtin("germany"));
        assertTrue(e.getMessage().contains("france"), e.getMessage());
    }

    @Test
    void jsonlRecordsCarryTextAndFacet() throws IOException {
        PromptSet s = PromptSet.load(write("p.jsonl",
                "\uFEFF{\"text\": \"Crêpes are thin pancakes.\", \"facet\": \"cuisine\"}\r\n{\"text\": \"No facet here at all.\"}\n"));
        assertEquals(2, s.size());
        assertEquals(new PromptSet.Prompt("Crêpes are thin pancakes.", "cuisine"), s.prompts().get(0));
        assertNull(s.prompts().get(1).facet());
    }

    @Test
    void emptyFileIsRejected() throws IOException {
        FormatException e = assertThrows(FormatException.class, () -> PromptSet.load(write("empty.jsonl", "")));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        assertThrows(FormatException.class, () -> PromptSet.load(write("blank.txt", "\n  \n\n")));
    }

    @Test
    void blankLineInJsonlIsRejectedWithItsLineNumber() throws IOException {
        Path p = write("gap.jsonl", "{\"text\": \"first prompt\"}\n\n{\"text\": \"third prompt\"}\n");
        FormatException e = assertThrows(FormatException.class, () -> PromptSet.load(p));
        assertEquals("line 2", e.field());
        assertEquals(p, e.file());
    }

    @Test
    void blankLinesInTxtAreSkippedAndCounted() throws IOException {
        PromptSet s = PromptSet.load(write("p.txt", "one prompt here\n\n   \ntwo prompt here\n\n"));
        assertEquals(List.of("one prompt here", "two prompt here"), s.prompts().stream().map(PromptSet.Prompt::text).toList());
        assertEquals(3, s.skippedBlankLines());
        assertNull(s.prompts().get(0).facet());
    }

    @Test
    void invalidUtf8IsRejectedWithLineAndByteOffset() throws IOException {
        byte[] good = "{\"text\": \"fine line\"}\n{\"text\": \"caf".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[good.length + 3];
        System.arraycopy(good, 0, bytes, 0, good.length);
        bytes[good.length] = (byte) 0xC3;     // a lead byte followed by a non-continuation byte
        bytes[good.length + 1] = (byte) 0x28;
        bytes[good.length + 2] = '\n';
        FormatException e = assertThrows(FormatException.class, () -> PromptSet.load(write("bad.jsonl", bytes)));
        // line 1 is 22 bytes incl. '\n'; line 2 has 13 good bytes, so the bad byte sits at file offset 35
        assertEquals("line 2, byte offset " + good.length, e.field());
        assertEquals(35, good.length);
        assertTrue(e.getMessage().contains("0xC3"), e.getMessage());
    }

    @Test
    void duplicatePromptsAreKeptButReported() throws IOException {
        PromptSet s = PromptSet.load(write("d.txt", "same words again\nother words\nsame words again\nsame words again\n"));
        assertEquals(4, s.size());
        assertEquals(List.of("same words again"), s.duplicates());
    }

    @Test
    void malformedJsonlRecordsAreRejected() throws IOException {
        FormatException typo = assertThrows(FormatException.class,
                () -> PromptSet.load(write("k.jsonl", "{\"text\": \"a prompt\", \"facte\": \"sport\"}\n")));
        assertEquals("line 1, key 'facte'", typo.field());
        assertThrows(FormatException.class, () -> PromptSet.load(write("t.jsonl", "{\"facet\": \"sport\"}\n")));
        assertThrows(FormatException.class, () -> PromptSet.load(write("n.jsonl", "{\"text\": 3}\n")));
        assertThrows(FormatException.class, () -> PromptSet.load(write("j.jsonl", "{\"text\": \"unterminated\n")));
        assertThrows(FormatException.class, () -> PromptSet.load(write("a.jsonl", "[\"text\"]\n")));
        assertThrows(FormatException.class, () -> PromptSet.load(write("p.csv", "text\n")));
    }
}
