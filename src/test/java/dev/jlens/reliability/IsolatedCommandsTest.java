package dev.jlens.reliability;

import dev.jlens.isolated.IsolatedCommand;
import dev.jlens.isolated.JavaProcess;
import dev.jlens.util.RunFolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * `france`, `steer` and `contrast --isolated` (issue 17 point 1): the whole command runs in a worker JVM. Each case
 * runs the real `jlens` command line in a child JVM (the host) on the tiny toy of {@link RunFolderCompletenessTest}:
 * an isolated France run writes the same results.json as an in-process one; a real GGML_ASSERT in the worker (the
 * {@link IsolatedCommand#DRILL_ENV} drill: an invalid ggml type, {@link dev.jlens.llama.NativeProbe}, at llama.cpp's
 * first log message) is exit 2 naming the model (the SAE for contrast), with no hs_err file, no --out folder and no
 * core; and the worker ends with its host after SIGKILL or SIGINT, leaving nothing in --out.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IsolatedCommandsTest {
    @TempDir static Path tmp;
    static Path work;

    @BeforeAll
    static void files() throws IOException {
        RunFolderCompletenessTest.dir = tmp;
        RunFolderCompletenessTest.files();
        work = Files.createDirectories(tmp.resolve("cwd")); // the hosts' working folder: where a JVM would drop hs_err files
    }

    record Run(int code, String out, String err) {}

    /** `jlens args` in a child JVM working in {@link #work}, with the drill when {@code drill} is not null. */
    static Run jlens(List<String> args, String drill) throws Exception {
        ProcessBuilder pb = JavaProcess.builder("dev.jlens.cli.Main", args).directory(work.toFile());
        if (drill != null) pb.environment().put(IsolatedCommand.DRILL_ENV, drill);
        Path o = tmp.resolve("stdout.txt"), e = tmp.resolve("stderr.txt");
        Process p = pb.redirectOutput(o.toFile()).redirectError(e.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
            fail("jlens " + args + " did not finish in 300 s: " + Files.readString(e));
        }
        return new Run(p.exitValue(), Files.readString(o, StandardCharsets.UTF_8), Files.readString(e, StandardCharsets.UTF_8));
    }

    static List<String> france(Path out, Path cache, String... more) {
        List<String> a = new ArrayList<>(RunFolderCompletenessTest.france(out, cache, "200", "5").command());
        a = new ArrayList<>(a.subList(a.indexOf("france"), a.size()));
        a.addAll(List.of(more));
        return a;
    }

    static void assertNoCrashFiles() throws IOException {
        try (Stream<Path> s = Files.list(work)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).toList(), "no hs_err or core file where jlens ran");
        }
    }

    @Test
    @Order(1)
    void anIsolatedFranceRunWritesTheSameResultsAsAnInProcessOne() throws Exception {
        Path direct = tmp.resolve("direct"), iso = tmp.resolve("iso");
        Run d = jlens(france(direct, tmp.resolve("cache-direct")), null);
        assertEquals(0, d.code(), d.err());
        long t0 = System.nanoTime();
        Run i = jlens(france(iso, tmp.resolve("cache-iso"), "--isolated"), null);
        assertEquals(0, i.code(), i.err());
        System.out.printf("isolated france on the tiny toy: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        RunFolderCompletenessTest.assertComplete(iso);
        for (String f : RunFolderCompletenessTest.OUTPUTS) {
            if (f.endsWith(".png") || f.equals("report.html")) continue;
            assertArrayEquals(Files.readAllBytes(direct.resolve(f)), Files.readAllBytes(iso.resolve(f)), f);
        }
        // the worker's stdout reached the host's: the verdict and where the results are
        assertTrue(i.out().contains("results: " + iso.resolve("results.json").toAbsolutePath()), i.out());
        assertEquals(d.out().replace(direct.toString(), "X"), i.out().replace(iso.toString(), "X"));
        assertEquals(List.of(), RunFolderCompletenessTest.leftovers(iso));
        assertTrue(Files.isRegularFile(iso.resolve("run.log")), "the worker's run.log");
        assertNoCrashFiles();
    }

    @ParameterizedTest(name = "{0} --isolated")
    @ValueSource(strings = {"france", "steer", "contrast", "capture"})
    @Order(2)
    void aNativeAbortInTheWorkerIsExitTwoNamingTheModelWithNothingWritten(String command) throws Exception {
        Path out = tmp.resolve("abort-" + command);
        String subject = RunFolderCompletenessTest.model.toString();
        List<String> args;
        switch (command) {
            case "france" -> args = france(out, tmp.resolve("cache-abort-france"), "--isolated");
            case "capture" -> args = List.of("capture", "--model", subject, "--prompts", RunFolderCompletenessTest.target.toString(), "--out",
                    out.toString(), "--ctx", "256", "--threads", "2", "--isolated"); // its own worker (IsolatedWorker), the same exit 2
            case "steer" -> {
                // the generation stage: steer continues a France run's results (its capture is cached, no llama.cpp there)
                Path results = tmp.resolve("for-steer");
                // thresholds that let every fine candidate match an anchor: the tiny toy's random SAEs have no real sub-features
                Run f = jlens(france(results, tmp.resolve("cache-steer"), "--min-cosine", "-1", "--min-correlation", "-1"), null);
                assertEquals(0, f.code(), f.err());
                args = List.of("steer", "--results", results.resolve("results.json").toString(), "--out", out.toString(), "--isolated",
                        "--neutral-prompts", "2", "--seeds", "1", "--strengths", "0,2", "--max-tokens", "4", "--bootstrap", "10", "--threads", "2");
            }
            default -> {
                Path t = tmp.resolve("cap-target"), c = tmp.resolve("cap-control");
                for (Path[] pc : new Path[][] {{RunFolderCompletenessTest.target, t}, {RunFolderCompletenessTest.control, c}}) {
                    if (Files.exists(pc[1].resolve("capture.json"))) continue;
                    Run r = jlens(List.of("capture", "--model", subject, "--prompts", pc[0].toString(), "--out", pc[1].toString(),
                            "--ctx", "256", "--threads", "2"), null);
                    assertEquals(0, r.code(), r.err());
                }
                subject = RunFolderCompletenessTest.coarse.toString();
                args = List.of("contrast", "--target-captured", t.toString(), "--control-captured", c.toString(), "--sae", subject,
                        "--out", out.toString(), "--encoder", "ggml", "--permutations", "50", "--cache", tmp.resolve("cache-contrast").toString(),
                        "--threads", "2", "--isolated");
            }
        }
        // llama.cpp's first message while it loads the model; the contrast's ggml encoder logs nothing on the CPU, so there
        // the drill fires at the first record of any jlens logger (the SAE's loading), still inside the worker's command
        Run r = jlens(args, command.equals("contrast") ? "abort-on-log:dev.jlens" : "abort-on-log:dev.jlens.llama");
        assertEquals(2, r.code(), r.err());
        String err = r.err();
        assertTrue(err.contains("jlens: ") && err.contains(subject), "names the " + (command.equals("contrast") ? "SAE" : "model") + ": " + err);
        assertTrue(err.contains("SIGABRT") && err.contains("GGML_ASSERT"), err);
        assertTrue(err.contains("drill"), "the abort is the drill's: " + err);
        assertFalse(Files.exists(out), "nothing at --out: " + (Files.exists(out) ? Fixtures.filesUnder(out) : ""));
        assertNoCrashFiles();
    }

    @ParameterizedTest(name = "host killed with SIG{0}")
    @ValueSource(strings = {"KILL", "INT"})
    @Order(3)
    void theWorkerEndsWithItsHostAndLeavesNothingInOut(String signal) throws Exception {
        Path out = tmp.resolve("signal-" + signal);
        // a slow run (30,000 permutations) so the worker still computes when its host is signalled
        List<String> args = new ArrayList<>(france(out, tmp.resolve("cache-signal-" + signal), "--isolated"));
        args.set(args.indexOf("--permutations") + 1, "30000");
        Process host = Fixtures.interruptible(JavaProcess.builder("dev.jlens.cli.Main", args)).directory(work.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(tmp.resolve("signal.err").toFile()).start();
        try {
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!Files.exists(out.resolve(RunFolder.LOCK_FILE)) && host.isAlive() && System.nanoTime() < end) Thread.sleep(20);
            assertTrue(Files.exists(out.resolve(RunFolder.LOCK_FILE)), "the worker locked --out: " + Files.readString(tmp.resolve("signal.err")));
            Thread.sleep(1500);
            List<ProcessHandle> workers = host.children().toList();
            assertEquals(1, workers.size(), "one worker");
            ProcessHandle worker = workers.get(0);
            assertTrue(worker.isAlive());
            long t0 = System.nanoTime();
            assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(host.pid())).start().waitFor());
            assertTrue(host.waitFor(30, TimeUnit.SECONDS), "host ended");
            worker.onExit().toCompletableFuture().completeOnTimeout(null, 30, TimeUnit.SECONDS).join();
            assertFalse(worker.isAlive(), "the worker ended with its host (SIG" + signal + ")");
            System.out.printf("SIG%s to an isolated france host: worker gone %.2f s later%n", signal, (System.nanoTime() - t0) / 1e9);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (Files.exists(out) && System.nanoTime() < deadline) Thread.sleep(100);
            assertFalse(Files.exists(out), "--out, which the run created, is gone: " + (Files.exists(out) ? Fixtures.filesUnder(out) : ""));
            try (Stream<Path> s = Files.list(tmp)) {
                assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".isolated-")).toList());
            }
            assertNoCrashFiles();
        } finally {
            host.descendants().forEach(ProcessHandle::destroyForcibly);
            host.destroyForcibly();
        }
    }
}
