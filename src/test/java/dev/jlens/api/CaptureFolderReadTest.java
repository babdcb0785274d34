package dev.jlens.api;

import dev.jlens.errors.InvalidFileException;
import dev.jlens.formats.GgufMutator;
import dev.jlens.util.FileHashes;
import dev.jlens.util.Json;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 18: a capture folder read back through the API as {@link LayerActivations} is the capture itself (every row,
 * bit for bit, with its prompt, position, token and BOS flag), and capture.json names the model by absolute path and
 * SHA-256.
 */
class CaptureFolderReadTest {
    @TempDir static Path dir;
    static Path model;
    static final List<String> PROMPTS = List.of("The capital of France is Paris.", "A cat sat on the mat.", "Bread and cheese");

    @BeforeAll
    static void files() throws IOException {
        model = GgufMutator.writeTiny(dir.resolve("tiny.gguf"));
    }

    @Test
    void aCaptureFolderReadsBackAsTheSessionsCapture() throws IOException {
        Path out = dir.resolve("cap");
        // a relative model path as a user types it: capture.json still names the file absolutely
        Path relative = Path.of("").toAbsolutePath().relativize(model);
        var options = CaptureFolder.Options.defaults().withContextTokens(256).withUbatchTokens(256).withThreads(2);
        CaptureFolder.Result w = CaptureFolder.write(relative, PROMPTS, 5, out, options, null);
        var info = Json.MAPPER.readTree(out.resolve("capture.json").toFile());
        assertEquals(model.toAbsolutePath().normalize().toString(), info.get("model").asText());
        assertEquals(FileHashes.sha256(model), info.get("model_sha256").asText());
        assertTrue(info.get("bos_prepended").asBoolean());

        try (LayerActivations back = CaptureFolder.read(out);
             LensModel m = LensModel.load(model); LensSession s = m.newSession(256, 2); LayerActivations direct = s.capture(PROMPTS, 5)) {
            assertEquals(w.rows(), back.rows());
            assertEquals(direct.rows(), back.rows());
            assertEquals(direct.dModel(), back.dModel());
            assertEquals(5, back.layer());
            int bos = 0;
            for (int r = 0; r < back.rows(); r++) {
                assertEquals(direct.prompt(r), back.prompt(r), "prompt of row " + r);
                assertEquals(direct.position(r), back.position(r), "position of row " + r);
                assertEquals(direct.token(r), back.token(r), "token of row " + r);
                assertEquals(direct.isBos(r), back.isBos(r), "BOS flag of row " + r);
                assertArrayEquals(direct.row(r), back.row(r), "row " + r + " bit for bit (same batches, same numerics)");
                if (back.isBos(r)) bos++;
            }
            assertEquals(PROMPTS.size(), bos);
        }
    }

    @Test
    void aFolderThatIsNotACaptureIsBadInputNamingTheFile() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        var e = assertThrows(InvalidFileException.class, () -> CaptureFolder.read(empty));
        assertTrue(e.getMessage().contains("capture.json"), e.getMessage());
        assertTrue(Failures.isBadInput(e));
    }
}
