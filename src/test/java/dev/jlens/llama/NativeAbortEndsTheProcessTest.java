package dev.jlens.llama;

import dev.jlens.formats.GgufMutator;
import dev.jlens.isolated.JavaProcess;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A native abort must end the process, never hang it. With gemma2.rope.dimension_count 15 (odd, and the Java check
 * bypassed) every CPU thread of the rope op hits the same GGML_ASSERT; ggml's default abort path forks a
 * gdb-launching child per thread that waits on a pipe the other child also holds, and the process hung for 15
 * minutes. jlens sets GGML_NO_BACKTRACE itself before ggml loads (NativeLibrary), so even a JVM started without the
 * variable (an application embedding jlens) dies at once with SIGABRT; the isolated worker's environment has it too.
 */
class NativeAbortEndsTheProcessTest {
    @TempDir static Path dir;
    static Path rope15;
    static final long TIMEOUT_S = 120;

    @BeforeAll
    static void writeModel() throws IOException {
        Path tiny = GgufMutator.writeTiny(dir.resolve("tiny.gguf"));
        rope15 = GgufMutator.read(tiny).u32("gemma2.rope.dimension_count", 15).write(dir.resolve("rope15.gguf"));
    }

    record Ended(int code, String stdout, String stderr, double seconds) {}

    /** Runs {@link UncheckedCaptureMain} on {@code model}; fails the test if it has not ended after {@value #TIMEOUT_S} s. */
    static Ended run(ProcessBuilder pb, Path cwd) throws IOException, InterruptedException {
        Path out = cwd.resolve("stdout"), err = cwd.resolve("stderr");
        pb.directory(cwd.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
        long t0 = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
            fail("the process did not end within " + TIMEOUT_S + " s after a native abort (hung); stderr:\n" + Files.readString(err));
        }
        return new Ended(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8),
                (System.nanoTime() - t0) / 1e9);
    }

    static void assertAborted(Ended e) {
        assertEquals(134, e.code(), "expected SIGABRT; stdout: " + e.stdout() + "\nstderr: " + e.stderr());
        assertTrue(e.stderr().contains("GGML_ASSERT"), e.stderr());
        assertFalse(e.stdout().contains("RETURNED"), e.stdout());
    }

    @Test
    void aJvmStartedWithoutGgmlNoBacktraceDiesInsteadOfHanging() throws Exception {
        Path cwd = Files.createDirectories(dir.resolve("embedded"));
        List<String> cmd = new ArrayList<>(JavaProcess.command(UncheckedCaptureMain.class.getName(), List.of(rope15.toString(), "4")));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("GGML_NO_BACKTRACE");
        Ended e = run(pb, cwd);
        assertTrue(e.stdout().contains("GGML_NO_BACKTRACE=1"), "jlens set the variable before loading ggml: " + e.stdout());
        assertAborted(e);
        System.out.printf("embedded JVM, 4 threads: exit %d after %.1f s%n", e.code(), e.seconds());
    }

    @Test
    void theIsolatedWorkersEnvironmentDiesInsteadOfHanging() throws Exception {
        Path cwd = Files.createDirectories(dir.resolve("worker"));
        ProcessBuilder pb = JavaProcess.builder(UncheckedCaptureMain.class.getName(), List.of(rope15.toString(), "4"));
        assertEquals("1", pb.environment().get("GGML_NO_BACKTRACE"));
        Ended e = run(pb, cwd);
        assertAborted(e);
        System.out.printf("worker environment, 4 threads: exit %d after %.1f s%n", e.code(), e.seconds());
    }
}
