package dev.jlens.reliability;

import dev.jlens.cli.Main;
import dev.jlens.formats.Npy;
import dev.jlens.formats.Tensor;
import dev.jlens.isolated.IsolatedCapture;
import dev.jlens.isolated.IsolatedWorkerCrashedException;
import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Isolated mode: capture in a worker JVM; a native abort there is a typed exception here. */
class IsolatedCaptureTest {
    @TempDir Path tmp;
    static final List<String> PROMPTS = List.of("The capital of France is Paris.", "A cat sat on the mat.", "Bread and cheese");
    static final Context.Params PARAMS = Context.Params.defaults().withCtx(256).withUbatch(16).withThreads(2);

    @Test
    void aGoodModelGivesTheSameActivationsAsInProcessCapture() throws Exception {
        Path out = tmp.resolve("iso");
        var r = IsolatedCapture.run(Fixtures.tinyModel(), PROMPTS, 12, out, PARAMS, 0, IsolatedCapture.Options.defaults());
        assertEquals(List.of("activations.npy", "capture.json", "tokens.csv"), Fixtures.filesUnder(out));
        try (Model m = Model.load(Fixtures.tinyModel()); Context c = m.newContext(PARAMS); Arena a = Arena.ofConfined()) {
            List<int[]> toks = new ArrayList<>();
            for (String p : PROMPTS) toks.add(m.vocab().tokenize(p));
            Tensor t = Npy.read(r.activations(), a);
            try (Activations direct = c.capture(toks, Context.CaptureSpec.layer(12))) {
                assertEquals(direct.rows(), r.rows());
                assertArrayEquals(new long[] {direct.rows(), m.nEmbd()}, t.shape());
                assertEquals(-1L, direct.data().mismatch(t.data()), "worker activations differ from in-process capture");
            }
        }
        assertNoStagingLeft();
    }

    @Test
    void aNativeAbortInTheWorkerIsATypedExceptionAndTheHostLives() throws Exception {
        Path out = tmp.resolve("crash");
        var e = assertThrows(IsolatedWorkerCrashedException.class, () -> IsolatedCapture.run(Fixtures.tinyModel(), PROMPTS, 12, out, PARAMS, 0,
                new IsolatedCapture.Options(Duration.ofMinutes(2), true)));
        assertEquals(134, e.exitCode(), e.getMessage());
        assertTrue(e.stderrTail().contains("GGML_ASSERT"), e.stderrTail());
        assertTrue(e.getMessage().contains("SIGABRT"), e.getMessage());
        assertEquals(List.of(), Fixtures.filesUnder(out), "nothing at the output path");
        assertNoStagingLeft();
        // the host JVM is alive and can still use llama.cpp itself
        try (Model m = Model.load(Fixtures.tinyModel())) {
            assertEquals(64, m.nEmbd());
        }
    }

    @Test
    void badInputInTheWorkerIsIllegalArgumentNamingTheValue() throws Exception {
        var e = assertThrows(IllegalArgumentException.class, () -> IsolatedCapture.run(Fixtures.tinyModel(), PROMPTS, 40, tmp.resolve("bad"),
                PARAMS, 0, IsolatedCapture.Options.defaults()));
        assertTrue(e.getMessage().contains("layer 40 is out of range"), e.getMessage());
        assertEquals(List.of(), Fixtures.filesUnder(tmp.resolve("bad")));
        assertNoStagingLeft();
    }

    @Test
    void captureIsolatedFlagWritesTheSameFilesAsInProcess() throws Exception {
        Path prompts = tmp.resolve("p.txt");
        Files.writeString(prompts, String.join("\n", PROMPTS) + "\n");
        Path iso = tmp.resolve("cli-iso"), direct = tmp.resolve("cli-direct");
        for (Path out : List.of(iso, direct)) {
            List<String> args = new ArrayList<>(List.of("capture", "--model", Fixtures.tinyModel().toString(), "--prompts", prompts.toString(),
                    "--out", out.toString(), "--ubatch", "16", "--threads", "2", "--ctx", "256"));
            if (out == iso) args.add("--isolated");
            assertEquals(0, Main.run(args.toArray(String[]::new)));
        }
        for (String f : List.of("activations.npy", "tokens.csv")) {
            assertArrayEquals(Files.readAllBytes(direct.resolve(f)), Files.readAllBytes(iso.resolve(f)), f);
        }
    }

    private void assertNoStagingLeft() throws Exception {
        try (var s = Files.list(tmp)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".isolated-")).toList());
        }
    }
}
