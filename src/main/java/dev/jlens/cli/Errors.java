package dev.jlens.cli;

import dev.jlens.api.Failures;
import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;

/** Maps exceptions to exit codes and one clear line on stderr: 2 for bad input, 1 for a failed run. */
final class Errors {
    private Errors() {}

    static int handle(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        Throwable e = ex instanceof UncheckedIOException u ? u.getCause() : ex;
        boolean badInput = Failures.isBadInput(e);
        cl.getErr().println("jlens: " + (badInput ? "" : "error: ") + describe(e));
        if (Boolean.getBoolean("jlens.debug")) e.printStackTrace(cl.getErr());
        return badInput ? 2 : 1;
    }

    static String describe(Throwable e) {
        if (e instanceof NoSuchFileException n) return n.getFile() + ": does not exist";
        if (e instanceof IOException && e.getMessage() == null) return e.getClass().getSimpleName();
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
