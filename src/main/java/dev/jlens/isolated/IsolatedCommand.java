package dev.jlens.isolated;

import dev.jlens.llama.NativeProbe;
import dev.jlens.util.RunFolder;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * A whole jlens command in a worker JVM (`france`, `steer`, `contrast --isolated`): the host starts the same command
 * line, less {@code --isolated}, in a child JVM like this one, forwards its stdout and stderr, and answers with its exit
 * code. The worker writes the run folder itself, through {@link RunFolder} (lock, staging, marker moved in last), so
 * the in-process and the isolated run write the same files.
 *
 * <p>The worker's life is tied to the host's: it reads its stdin, a pipe the host holds and never writes, and on
 * end-of-file (the host ended: normally, SIGINT, SIGTERM or kill -9, since the kernel closes a dead process's pipes) it
 * removes its staging folders ({@link RunFolder#abandonHeld}) and halts, even in the middle of a llama_decode. On SIGINT
 * or SIGTERM the host's shutdown hook closes that pipe and waits for the worker.
 *
 * <p>A worker that dies of a signal a native fault raises (SIGABRT from GGML_ASSERT, SIGSEGV, SIGBUS, SIGFPE, SIGILL) is
 * bad input: IllegalArgumentException naming {@code subject} (the model), the signal and the tail of the worker's
 * stderr, where ggml prints the failed assertion; the host then removes what the worker left in the run folder
 * ({@link RunFolder#recover}), so the folder is as before the run (a folder the run created is removed). The worker's
 * JVM writes no hs_err file where the user works: its error file goes to a temporary folder the host removes. Any other
 * end (SIGKILL from outside, an unknown code) is {@link IsolatedWorkerCrashedException}, a failed run.
 */
public final class IsolatedCommand {
    /** Environment of the worker: the host holds its stdin. */
    static final String WORKER_ENV = "JLENS_ISOLATED_WORKER";
    /**
     * A drill for tests, read by the worker only: {@code abort-on-log:<logger>} makes the worker hit a real GGML_ASSERT
     * (an invalid ggml type, {@link NativeProbe}) at the first log record of that java.util.logging logger or below it,
     * e.g. {@code dev.jlens.llama}: llama.cpp's first message while it loads the model.
     */
    public static final String DRILL_ENV = "JLENS_ISOLATED_DRILL";
    static final int STDERR_TAIL_CHARS = 4096;

    private IsolatedCommand() {}

    /**
     * Runs {@code mainClass args} in a worker JVM and returns its exit code (0 done, 1 failed run, 2 bad input: the worker
     * printed its own messages, forwarded to {@code err}).
     *
     * @param subject   what a native crash is blamed on, e.g. "model /path/model.gguf"
     * @param runFolder the folder the command writes (cleaned after a crash), or null
     * @throws IllegalArgumentException       the worker died of a native fault
     * @throws IsolatedWorkerCrashedException it ended otherwise without an exit code of its own
     */
    public static int run(String mainClass, List<String> args, String subject, Path runFolder, PrintWriter out, PrintWriter err)
            throws IOException {
        Objects.requireNonNull(mainClass, "mainClass");
        Objects.requireNonNull(args, "args");
        Objects.requireNonNull(subject, "subject");
        Path folder = runFolder == null ? null : runFolder.toAbsolutePath().normalize();
        boolean existed = folder != null && Files.exists(folder);
        Path errDir = Files.createTempDirectory("jlens-worker-");
        try {
            // hs_err goes to a folder this host removes; no core file either
            ProcessBuilder pb = JavaProcess.builder(mainClass, List.of("-XX:ErrorFile=" + errDir.resolve("hs_err_pid%p.log"),
                    "-XX:-CreateCoredumpOnCrash"), args);
            pb.environment().put(WORKER_ENV, "1");
            pb.redirectInput(ProcessBuilder.Redirect.PIPE);
            Process p = pb.start();
            StringBuilder tail = new StringBuilder();
            Thread outPump = pump(p.getInputStream(), out, null, "jlens-worker-stdout");
            Thread errPump = pump(p.getErrorStream(), err, tail, "jlens-worker-stderr");
            Thread onShutdown = new Thread(() -> stop(p), "jlens-isolated-stop");
            Runtime.getRuntime().addShutdownHook(onShutdown);
            int code;
            try {
                code = p.waitFor();
                outPump.join(10_000);
                errPump.join(10_000);
            } catch (InterruptedException e) {
                stop(p);
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the isolated worker", e);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(onShutdown);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs: it stops the worker
                }
            }
            if (code == 0 || code == 1 || code == 2) return code;
            String stderr;
            synchronized (tail) {
                stderr = tail.toString().strip();
            }
            if (folder != null) RunFolder.recover(folder, !existed);
            if (nativeFault(code)) {
                throw new IllegalArgumentException(subject + ": llama.cpp crashed on it in the isolated worker: "
                        + IsolatedWorkerCrashedException.describe(code) + " (nothing was written"
                        + (folder == null ? "" : " to " + folder) + ")" + (stderr.isEmpty() ? "" : "; the worker's stderr ends with:\n" + stderr));
            }
            throw new IsolatedWorkerCrashedException("isolated run on " + subject, code, stderr);
        } finally {
            IsolatedCapture.deleteTree(errDir);
        }
    }

    /** SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV: what a native fault (not a kill from outside) ends a process with. */
    public static boolean nativeFault(int code) {
        return code == 128 + 4 || code == 128 + 5 || code == 128 + 6 || code == 128 + 7 || code == 128 + 8 || code == 128 + 11;
    }

    /** Closes the worker's stdin (it cleans up and halts), then kills it if it has not ended within 10 s. */
    private static void stop(Process p) {
        try {
            p.getOutputStream().close();
        } catch (IOException ignored) {
            // already closed
        }
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Copies {@code in} to {@code to} as it comes (progress bars included), keeping the last characters in {@code tail}. */
    private static Thread pump(InputStream in, PrintWriter to, StringBuilder tail, String name) {
        Thread t = new Thread(() -> {
            char[] buf = new char[8192];
            try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                int n;
                while ((n = r.read(buf)) >= 0) {
                    to.write(buf, 0, n);
                    to.flush();
                    if (tail != null) {
                        synchronized (tail) {
                            tail.append(buf, 0, n);
                            if (tail.length() > STDERR_TAIL_CHARS) tail.delete(0, tail.length() - STDERR_TAIL_CHARS);
                        }
                    }
                }
            } catch (IOException e) {
                // the worker is gone
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    // the drill's logger, held strongly (java.util.logging keeps loggers weakly)
    private static Logger drillLogger;

    /**
     * Call first in the worker's main: ties this JVM's life to the host's (see the class comment) and arms the drill of
     * {@link #DRILL_ENV}. A no-op in a JVM not started by {@link #run}.
     */
    public static synchronized void workerStarted() {
        if (!"1".equals(System.getenv(WORKER_ENV))) return;
        Thread t = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the host never writes; anything read is ignored
                }
            } catch (IOException e) {
                // a broken pipe is end-of-file too
            }
            RunFolder.abandonHeld();
            Runtime.getRuntime().halt(IsolatedWorker.HOST_GONE);
        }, "jlens-worker-host-watch");
        t.setDaemon(true);
        t.start();
        armDrill();
    }

    /** Arms the drill of {@link #DRILL_ENV} when it is set (both workers: this one and {@link IsolatedWorker}). */
    static synchronized void armDrill() {
        String drill = System.getenv(DRILL_ENV);
        if (drill != null && drill.startsWith("abort-on-log:")) {
            drillLogger = Logger.getLogger(drill.substring("abort-on-log:".length()));
            drillLogger.setLevel(Level.ALL);
            drillLogger.addHandler(new Handler() {
                @Override
                public void publish(LogRecord r) {
                    System.err.println("jlens-worker: drill: a native abort at the log record '" + r.getMessage() + "'");
                    System.err.flush();
                    NativeProbe.newTensor1d(1_000_000);
                }

                @Override public void flush() { }

                @Override public void close() { }
            });
        }
    }

    /** {@code args} without {@code --isolated} (the worker runs the command in-process). */
    public static List<String> withoutFlag(List<String> args, String flag) {
        List<String> out = new ArrayList<>();
        for (String a : args) if (!a.equals(flag) && !a.startsWith(flag + "=")) out.add(a);
        return out;
    }
}
