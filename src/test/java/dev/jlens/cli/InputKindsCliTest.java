package dev.jlens.cli;

import dev.jlens.formats.GgufMutator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A folder or a FIFO where `capture` and `encode` expect a file (issue 17 point 9): exit 2 naming the path and what it
 * is, nothing written, and no hang on a FIFO (nothing opens it). Before: `encode --activations <folder>` printed
 * "jlens: error: No such device".
 */
@Timeout(120)
class InputKindsCliTest {
    @TempDir static Path dir;
    static Path model, prompts, folder, fifo;

    @BeforeAll
    static void files() throws IOException, InterruptedException {
        model = GgufMutator.writeTiny(dir.resolve("tiny.gguf"));
        prompts = Files.writeString(dir.resolve("prompts.txt"), "The capital of France is Paris.\nA cat sat on the mat.\n");
        folder = Files.createDirectories(dir.resolve("a-folder"));
        fifo = dir.resolve("a-fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor(), "mkfifo");
    }

    private static void assertBadInput(CliRunner.Run r, Path out, String... fragments) {
        assertEquals(2, r.code(), r.err());
        for (String f : fragments) assertTrue(r.err().contains(f), "'" + f + "' missing from: " + r.err());
        assertFalse(Files.exists(out), "no output folder");
    }

    private static CliRunner.Run capture(Path m, Path p, Path out) {
        return CliRunner.run("capture", "--model", m.toString(), "--prompts", p.toString(), "--out", out.toString(), "--layer", "3",
                "--ctx", "128", "--ubatch", "64", "--threads", "2");
    }

    @Test
    void encodeOfAFolderNamesIt() {
        Path out = dir.resolve("enc-folder");
        assertBadInput(CliRunner.run("encode", "--activations", folder.toString(), "--sae", dir.resolve("none.npz").toString(), "--out", out.toString()),
                out, folder.toString(), "is a folder, not a file");
    }

    @Test
    void encodeOfAFifoNamesItWithoutOpeningIt() {
        Path out = dir.resolve("enc-fifo");
        assertBadInput(CliRunner.run("encode", "--activations", fifo.toString(), "--sae", dir.resolve("none.npz").toString(), "--out", out.toString()),
                out, fifo.toString(), "FIFO");
    }

    @Test
    void promptsThatAreAFolderOrAFifoAreNamed() {
        Path out = dir.resolve("cap-prompts");
        assertBadInput(capture(model, folder, out), out, folder.toString(), "is a folder, not a file");
        assertBadInput(capture(model, fifo, out), out, fifo.toString(), "FIFO");
    }

    @Test
    void aModelThatIsAFolderOrAFifoIsNamed() {
        Path out = dir.resolve("cap-model");
        assertBadInput(capture(folder, prompts, out), out, folder.toString(), "is a folder, not a file");
        assertBadInput(capture(fifo, prompts, out), out, fifo.toString(), "FIFO");
    }
}
