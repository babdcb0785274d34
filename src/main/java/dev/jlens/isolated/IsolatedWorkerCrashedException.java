package dev.jlens.isolated;

import java.io.IOException;

/**
 * The isolated worker process died without an answer: a native abort (GGML_ASSERT gives exit code 134,
 * SIGABRT), a kill, or a timeout. The host JVM is unaffected; the message carries the exit code and the
 * tail of the worker's stderr, where llama.cpp prints the failed assertion.
 */
public final class IsolatedWorkerCrashedException extends IOException {
    private final int exitCode;
    private final String stderrTail;

    public IsolatedWorkerCrashedException(String what, int exitCode, String stderrTail) {
        super(what + ": worker " + describe(exitCode) + (stderrTail.isBlank() ? "" : "; its stderr ends with:\n" + stderrTail));
        this.exitCode = exitCode;
        this.stderrTail = stderrTail;
    }

    /** The worker's exit status (128 + signal for a signal, e.g. 134 for SIGABRT); -1 when it timed out. */
    public int exitCode() { return exitCode; }

    public String stderrTail() { return stderrTail; }

    static String describe(int code) {
        if (code == -1) return "timed out and was killed";
        if (code == 134) return "aborted (exit code 134, SIGABRT: a native assertion such as GGML_ASSERT failed)";
        if (code == 137) return "was killed (exit code 137, SIGKILL)";
        if (code > 128) return "died of signal " + (code - 128) + " (exit code " + code + ")";
        return "exited with code " + code;
    }
}
