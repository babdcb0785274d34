package dev.jlens.reliability;

import dev.jlens.cli.CliRunner;
import dev.jlens.isolated.JavaProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 17, point 9 (and the FIFO of point 5): activations.npy had mode 0600 while its neighbours had 0644; a FIFO or
 * device given as --model was reported as "does not exist"; `info` on a FIFO hung (opening a FIFO for reading
 * waits for a writer).
 */
class SpecialFilesAndModesTest {
    @TempDir Path dir;

    @Test
    void everyCaptureOutputIsReadableByOthersLikeItsNeighbours() throws Exception {
        Path prompts = Files.writeString(dir.resolve("p.txt"), "The capital of France is Paris.\n");
        Path out = dir.resolve("out");
        CliRunner.Run r = CliRunner.run("capture", "--model", Fixtures.tinyModel().toString(), "--prompts", prompts.toString(), "--out", out.toString(),
                "--layer", "3", "--ctx", "128", "--ubatch", "32", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("activations.npy", "tokens.csv", "capture.json")) {
            assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve(f))), f);
        }
    }

    private Path fifo() throws Exception {
        Path f = dir.resolve("model.fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", f.toString()).start().waitFor());
        return f;
    }

    /** The CLI in a child JVM (a hang there fails the test instead of hanging it). */
    private String[] cliInChild(String... args) throws Exception {
        Path err = dir.resolve("err.txt");
        Process p = JavaProcess.builder("dev.jlens.cli.Main", List.of(args)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail("jlens " + String.join(" ", args) + " hung");
        }
        return new String[] {Integer.toString(p.exitValue()), Files.readString(err, StandardCharsets.UTF_8)};
    }

    @Test
    void infoOnAFifoSaysItIsNotARegularFileInsteadOfHanging() throws Exception {
        Path f = fifo();
        String[] r = cliInChild("info", f.toString());
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains(f.toString()) && r[1].contains("not a regular file"), r[1]);
    }

    @Test
    void aFifoADeviceAndAFolderAsModelAreNamedForWhatTheyAre() throws Exception {
        Path prompts = Files.writeString(dir.resolve("p.txt"), "Paris\n");
        Path f = fifo();
        for (var c : List.of(List.of(f.toString(), "not a regular file"), List.of("/dev/null", "not a regular file"),
                List.of(dir.toString(), "is a folder"), List.of(dir.resolve("absent.gguf").toString(), "does not exist"))) {
            String[] r = cliInChild("capture", "--model", c.get(0), "--prompts", prompts.toString(), "--out", dir.resolve("o").toString());
            assertEquals("2", r[0], r[1]);
            assertTrue(r[1].contains(c.get(0)) && r[1].contains(c.get(1)), c + ": " + r[1]);
            assertFalse(Files.exists(dir.resolve("o")));
        }
        String[] iso = cliInChild("capture", "--isolated", "--model", f.toString(), "--prompts", prompts.toString(), "--out", dir.resolve("o").toString());
        assertEquals("2", iso[0], iso[1]);
        assertTrue(iso[1].contains("not a regular file"), iso[1]);
    }
}
