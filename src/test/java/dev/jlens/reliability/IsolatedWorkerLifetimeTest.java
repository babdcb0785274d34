package dev.jlens.reliability;

import dev.jlens.isolated.JavaProcess;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The isolated worker must not outlive its host (issue 17, point 8): after SIGINT or kill -9 of the host it ran the
 * capture to its end and left `.out.isolated-*` folders. A host JVM (IsolatedHostMain) starts a long capture; once
 * the worker is computing, the host gets the signal; the worker must be gone within seconds and nothing of the
 * run may remain next to the output path.
 */
class IsolatedWorkerLifetimeTest {
    @TempDir Path dir;

    @ParameterizedTest(name = "host killed with SIG{0}")
    @ValueSource(strings = {"KILL", "INT", "TERM"})
    void theWorkerEndsWithItsHostAndLeavesNoStagingFolder(String signal) throws Exception {
        Path out = dir.resolve("out");
        Process host = Fixtures.interruptible(JavaProcess.builder(IsolatedHostMain.class.getName(), List.of(Fixtures.tinyModel().toString(), out.toString(), "60000")))
                .redirectOutput(dir.resolve("host.out").toFile()).redirectError(dir.resolve("host.err").toFile()).start();
        try {
            ProcessHandle worker = awaitWorker(host);
            // let the worker load the model and compute for a moment (its staging folder exists by now)
            Thread.sleep(2000);
            assertTrue(worker.isAlive(), "the worker still computes when the host is signalled; host stderr: " + Files.readString(dir.resolve("host.err")));
            assertEquals(1, staging().size(), "one staging folder while the capture runs");
            long t0 = System.nanoTime();
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(host.pid())).start();
            assertEquals(0, kill.waitFor());
            assertTrue(host.waitFor(30, TimeUnit.SECONDS), "host ended");
            boolean ended = worker.onExit().toCompletableFuture().completeOnTimeout(null, 30, TimeUnit.SECONDS).join() != null || !worker.isAlive();
            double s = (System.nanoTime() - t0) / 1e9;
            assertTrue(ended && !worker.isAlive(), "the worker ended after its host got SIG" + signal);
            assertFalse(Files.readString(dir.resolve("host.out")).contains("DONE"), "the capture was still running when the host was signalled");
            // the worker (after kill -9) or the host's shutdown hook (INT, TERM) removes the staging folder
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!staging().isEmpty() && System.nanoTime() < deadline) Thread.sleep(100);
            assertEquals(List.of(), staging(), "no .out.isolated-* folder left");
            assertFalse(Files.exists(out), "no output folder");
            System.out.printf("SIG%s to the host: worker gone and staging removed %.2f s later%n", signal, s);
        } finally {
            host.descendants().forEach(ProcessHandle::destroyForcibly);
            host.destroyForcibly();
        }
    }

    @org.junit.jupiter.api.Test
    void aRunRemovesStagingFoldersOfDeadHostsAndKeepsThoseOfLiveOnes() throws Exception {
        Path out = dir.resolve("out");
        Path dead = staged(".out.isolated-dead", "999999999 2001-01-01T00:00:00Z");
        Path reused = staged(".out.isolated-reused", ProcessHandle.current().pid() + " 2001-01-01T00:00:00Z"); // a live pid, another start
        Path live = staged(".out.isolated-live", ProcessHandle.current().pid() + " "
                + ProcessHandle.current().info().startInstant().orElseThrow());
        Path oldNoHost = staged(".out.isolated-old", null);
        Files.setLastModifiedTime(oldNoHost, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(java.time.Duration.ofDays(2))));
        Path newNoHost = staged(".out.isolated-new", null);
        Path otherOutput = staged(".other.isolated-dead", "999999999 2001-01-01T00:00:00Z");
        dev.jlens.isolated.IsolatedCapture.run(Fixtures.tinyModel(), List.of("The capital of France is Paris."), 3, out,
                dev.jlens.llama.Context.Params.defaults().withCtx(128).withUbatch(32).withThreads(2), 0, dev.jlens.isolated.IsolatedCapture.Options.defaults());
        assertTrue(Files.isRegularFile(out.resolve("activations.npy")));
        assertFalse(Files.exists(dead), "a dead host's folder is removed");
        assertFalse(Files.exists(reused), "a folder whose pid now belongs to another process is removed");
        assertFalse(Files.exists(oldNoHost), "a day-old folder without a host file is removed");
        assertTrue(Files.exists(live), "a live host's folder stays");
        assertTrue(Files.exists(newNoHost), "a fresh folder without a host file stays (its host may be starting)");
        assertTrue(Files.exists(otherOutput), "folders of other outputs are not this run's business");
    }

    private Path staged(String name, String host) throws java.io.IOException {
        Path d = Files.createDirectories(dir.resolve(name).resolve("out"));
        Files.writeString(d.resolve("activations.npy"), "partial");
        if (host != null) Files.writeString(d.getParent().resolve("host"), host);
        return d.getParent();
    }

    private ProcessHandle awaitWorker(Process host) throws Exception {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            var w = host.children().findFirst();
            if (w.isPresent() && !staging().isEmpty()) return w.get();
            assertTrue(host.isAlive(), () -> "host ended early: " + read("host.err"));
            Thread.sleep(50);
        }
        return fail("no worker process started within 60 s: " + read("host.err"));
    }

    private String read(String name) {
        try {
            return Files.readString(dir.resolve(name));
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private List<String> staging() throws java.io.IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".isolated-")).toList();
        }
    }
}
