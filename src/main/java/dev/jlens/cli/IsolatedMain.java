package dev.jlens.cli;

import dev.jlens.api.IsolatedRun;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The worker of `jlens france|steer|contrast --isolated`: the same command line, less --isolated, in a JVM whose life
 * is tied to the command's ({@link IsolatedRun}). The whole command runs here (llama.cpp's capture and generation,
 * the SAE encode, the statistics, the outputs), so the isolated and the in-process run write the same files.
 */
public final class IsolatedMain {
    private IsolatedMain() {}

    public static void main(String[] args) {
        IsolatedRun.workerStarted();
        System.exit(Main.run(args));
    }

    /**
     * Runs the command of {@code spec} in a worker: its original arguments less --isolated. A native crash there is
     * exit 2 naming {@code subject}; the worker's own exit code is returned otherwise.
     */
    static int run(CommandSpec spec, String subject, Path runFolder) throws IOException {
        var args = IsolatedRun.withoutFlag(spec.root().commandLine().getParseResult().originalArgs(), "--isolated");
        return IsolatedRun.run(IsolatedMain.class, args, subject, runFolder, spec.commandLine().getOut(), spec.commandLine().getErr());
    }
}
