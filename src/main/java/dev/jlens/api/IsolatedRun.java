package dev.jlens.api;

import dev.jlens.isolated.IsolatedCommand;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

/**
 * A program's whole run in a worker JVM whose life is tied to this one's, so that a native abort inside llama.cpp
 * (GGML_ASSERT ends the whole process) ends the worker, not the caller: what `jlens france|steer|contrast --isolated`
 * use. The worker is a JVM like this one (same java, class path, native-access flags, jlens.native.dir and
 * jlens.models.dir); its main must call {@link #workerStarted} first.
 *
 * <p>The worker ends when this JVM ends, however it ends (SIGINT, SIGTERM, kill -9): it watches a pipe this JVM holds,
 * removes its run folders' staging folders and halts. Its JVM error file (hs_err) goes to a temporary folder that is
 * removed; no core file is written.
 */
public final class IsolatedRun {
    private IsolatedRun() {}

    /**
     * Runs {@code main} with {@code args} in a worker JVM, copying its stdout to {@code out} and its stderr to {@code err}
     * as they come, and returns its exit code when it exits by itself (with {@code System.exit}).
     *
     * @param main      the worker's main class; its main calls {@link #workerStarted} first
     * @param args      the worker's arguments
     * @param subject   what a native crash is blamed on, e.g. "model /path/to/model.gguf"
     * @param runFolder the folder the worker writes through jlens's run-folder lock and staging, or null: after a crash
     *                  its staging folders and temporary files are removed, and the folder itself when the run created it
     *                  and nothing else is in it
     * @param out       gets the worker's standard output as it comes (UTF-8, flushed after each chunk; written from a
     *                  copying thread, so it must not be used by another thread meanwhile)
     * @param err       gets the worker's standard error the same way
     * @return the worker's exit code
     * @throws IllegalArgumentException the worker died of a native fault (SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL): the
     *                                  message names {@code subject}, the signal and the end of the worker's stderr
     * @throws IOException              the worker could not start, was killed from outside, or this thread was interrupted
     */
    public static int run(Class<?> main, List<String> args, String subject, Path runFolder, PrintWriter out, PrintWriter err)
            throws IOException {
        return IsolatedCommand.run(main.getName(), args, subject, runFolder, out, err);
    }

    /** The first call of a worker's main: ties its life to the host's. A no-op in a JVM that {@link #run} did not start. */
    public static void workerStarted() {
        IsolatedCommand.workerStarted();
    }

    /**
     * Removes a flag from a command line, e.g. {@code --isolated} before the worker runs the same command in-process.
     *
     * @param args the command line's arguments
     * @param flag the flag as spelled on the command line, e.g. {@code --isolated}; an argument equal to it or starting
     *             with {@code flag=} is removed (a value given as the next argument is not)
     * @return a new list of the other arguments, in order
     */
    public static List<String> withoutFlag(List<String> args, String flag) {
        return IsolatedCommand.withoutFlag(args, flag);
    }
}
