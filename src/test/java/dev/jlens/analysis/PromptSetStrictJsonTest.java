package dev.jlens.analysis;

import dev.jlens.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Issue 17 point 9 for library users (the CLI checked these at its boundary already): PromptSet.load is strict. */
class PromptSetStrictJsonTest {
    @TempDir Path dir;

    @Test
    void aKeyGivenTwiceIsRejectedNamingTheKeyAndLine() throws Exception {
        Path f = Files.writeString(dir.resolve("dup.jsonl"), "{\"text\": \"Paris is nice.\"}\n{\"text\": \"a\", \"text\": \"b\"}\n");
        var e = assertThrows(FormatException.class, () -> PromptSet.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("line 2") && e.getMessage().contains("'text'")
                && e.getMessage().toLowerCase().contains("duplicate"), e.getMessage());
    }

    @Test
    void aLoneSurrogateEscapeIsRejectedNamingFileLineAndKeyNotTurnedIntoAQuestionMark() throws Exception {
        Path f = Files.writeString(dir.resolve("sur.jsonl"), "{\"text\": \"fine\"}\n{\"text\": \"x\"}\n{\"text\": \"caf\\ud800e\"}\n");
        var e = assertThrows(FormatException.class, () -> PromptSet.load(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("line 3") && e.getMessage().contains("'text'")
                && e.getMessage().contains("\\uD800"), e.getMessage());
        Path facet = Files.writeString(dir.resolve("facet.jsonl"), "{\"text\": \"ok\", \"facet\": \"\\udc00x\"}\n");
        var f2 = assertThrows(FormatException.class, () -> PromptSet.load(facet));
        assertTrue(f2.getMessage().contains("line 1") && f2.getMessage().contains("'facet'"), f2.getMessage());
        // a proper pair (an emoji written as two escapes) stays accepted
        Path pair = Files.writeString(dir.resolve("pair.jsonl"), "{\"text\": \"smile \\ud83d\\ude00\"}\n");
        assertEquals("smile \uD83D\uDE00", PromptSet.load(pair).prompts().get(0).text());
    }
}
