package dev.jlens.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Where a command's log records go, so that the terminal shows only progress bars and the result.
 *
 * <p>For the length of one command the root java.util.logging handlers are replaced by one handler that writes each
 * record as one line ({@code 12:01:13.402 WARNING llama.cpp: ...}): to the command's run folder as {@code run.log}
 * (appended after a header naming the command; records are held in memory until the command ends, so a command that
 * fails before writing anything leaves no file behind), and to the terminal only with {@code --verbose}. Without it
 * the terminal still gets errors ({@code SEVERE}) and jlens's own warnings, one line each; llama.cpp's warnings and
 * everyone's informational records go to run.log only. A record repeated word for word (an SAE loaded twice, the
 * same llama.cpp warning for every context) is kept once.
 *
 * <p>A user who configured java.util.logging ({@code -Djava.util.logging.config.file} or {@code .class}) keeps that
 * configuration: nothing is replaced. The previous handlers come back when the command ends (tests run many commands
 * in one JVM).
 */
final class Logs implements AutoCloseable {
    /** Most lines held for run.log; later ones are counted, not kept. */
    static final int MAX_LINES = 50_000;
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private static volatile Logs current;

    private final boolean verbose;
    private final PrintWriter terminal;
    private final String header;
    private final Logger root;
    private final Handler[] previous;
    private final Capture handler;
    private final List<String> lines = new ArrayList<>();
    private final Set<String> seen = new HashSet<>();
    private long dropped, repeated;
    private Path runFolder;

    private Logs(boolean verbose, PrintWriter terminal, String header, boolean takeOver) {
        this.verbose = verbose;
        this.terminal = terminal;
        this.header = header;
        this.root = takeOver ? LogManager.getLogManager().getLogger("") : null;
        this.previous = root == null ? new Handler[0] : root.getHandlers();
        this.handler = new Capture();
        if (root != null) {
            for (Handler h : previous) root.removeHandler(h);
            root.addHandler(handler);
        }
    }

    /**
     * Takes over the log records for one command.
     *
     * @param verbose  every record also goes to the terminal
     * @param terminal the command's stderr
     * @param command  the command line, for run.log's header
     */
    static Logs open(boolean verbose, PrintWriter terminal, String command) {
        boolean configured = System.getProperty("java.util.logging.config.file") != null
                || System.getProperty("java.util.logging.config.class") != null;
        Logs l = new Logs(verbose, terminal, "== " + LocalDateTime.now().withNano(0) + " jlens " + command, !configured);
        current = l;
        return l;
    }

    /**
     * The running command's output folder: run.log is appended there when the command ends (on failure only when
     * the folder exists and holds other files). No-op outside a command (API callers, tests of single classes).
     */
    static void runFolder(Path dir) {
        Logs l = current;
        if (l != null) {
            synchronized (l) {
                l.runFolder = dir;
            }
        }
    }

    /** Adds the command's failure to run.log (the terminal gets it from the error handler). */
    synchronized void failed(String message) {
        add("%s %-7s jlens: %s".formatted(LocalDateTime.now().toLocalTime().format(TIME), "SEVERE", message));
    }

    /** The run.log this command writes, or null when it has no run folder. */
    synchronized Path runLog() {
        return runFolder == null ? null : runFolder.resolve("run.log");
    }

    /**
     * Restores the previous handlers and writes run.log.
     *
     * @param succeeded whether the command ended with exit code 0
     */
    void close(boolean succeeded) {
        if (current == this) current = null;
        if (root != null) {
            root.removeHandler(handler);
            for (Handler h : previous) root.addHandler(h);
        }
        Path log;
        List<String> out;
        synchronized (this) {
            log = runLog();
            out = new ArrayList<>(lines);
            if (dropped > 0) out.add("(" + dropped + " more records not kept: more than " + MAX_LINES + " lines)");
            if (repeated > 0) out.add("(" + repeated + " repeated record(s) kept once)");
        }
        if (log == null || !Files.isDirectory(log.getParent())) return;
        try {
            if (!succeeded) {
                try (var files = Files.list(log.getParent())) {
                    if (files.noneMatch(p -> !p.getFileName().toString().equals("run.log"))) return; // nothing written: leave nothing
                }
            }
            StringBuilder b = new StringBuilder(header).append('\n');
            for (String s : out) b.append(s).append('\n');
            Files.writeString(log, b, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException | UncheckedIOException e) {
            terminal.println("jlens: could not write " + log + ": " + e.getMessage());
            terminal.flush();
        }
    }

    @Override
    public void close() { close(true); }

    private void add(String line) {
        if (lines.size() < MAX_LINES) lines.add(line);
        else dropped++;
    }

    /** Whether a record goes to the terminal without --verbose: errors, and jlens's own warnings. */
    static boolean forTerminal(LogRecord r) {
        if (r.getLevel().intValue() >= Level.SEVERE.intValue()) return true;
        return r.getLevel().intValue() >= Level.WARNING.intValue() && jlensClass(r.getLoggerName());
    }

    /**
     * Whether a logger is one of jlens's own classes ({@code dev.jlens.sae.SaeLoader}); llama.cpp and ggml log through
     * the native layer's logger, whose last segment is {@code native}, not a class name.
     */
    static boolean jlensClass(String logger) {
        if (logger == null || !logger.startsWith("dev.jlens.")) return false;
        String last = logger.substring(logger.lastIndexOf('.') + 1);
        return !last.isEmpty() && Character.isUpperCase(last.charAt(0));
    }

    /** llama.cpp's (and ggml's) logger: the native layer's, named {@code <jlens>.llama.native}. */
    static boolean nativeLogger(String logger) {
        return logger != null && logger.startsWith("dev.jlens.") && logger.endsWith(".llama.native");
    }

    /** One line: time, level, short source, message (and the stack trace of an attached exception). */
    static String format(LogRecord r) {
        String name = r.getLoggerName() == null ? "" : r.getLoggerName();
        String source = nativeLogger(name) ? "llama.cpp" : name.substring(name.lastIndexOf('.') + 1);
        String msg = new java.util.logging.SimpleFormatter().formatMessage(r).strip();
        StringBuilder b = new StringBuilder(LocalDateTime.ofInstant(r.getInstant() != null ? r.getInstant() : Instant.now(),
                ZoneId.systemDefault()).toLocalTime().format(TIME)).append(' ').append(String.format("%-7s", r.getLevel().getName()))
                .append(' ').append(source).append(": ").append(msg);
        if (r.getThrown() != null) {
            StringWriter w = new StringWriter();
            r.getThrown().printStackTrace(new PrintWriter(w));
            b.append('\n').append(w.toString().stripTrailing());
        }
        return b.toString();
    }

    private final class Capture extends Handler {
        Capture() { setLevel(Level.ALL); }

        @Override
        public void publish(LogRecord r) {
            if (r == null || !isLoggable(r)) return;
            String line = format(r);
            String key = r.getLevel() + "|" + r.getLoggerName() + "|" + line.substring(line.indexOf(' ') + 1);
            boolean show;
            synchronized (Logs.this) {
                if (!seen.add(key)) {
                    repeated++;
                    return;
                }
                add(line);
                show = verbose || forTerminal(r);
            }
            if (show) {
                synchronized (terminal) {
                    ProgressBar.breakLine(terminal);
                    terminal.println(verbose ? line : "jlens: " + r.getLevel().getName().toLowerCase(java.util.Locale.ROOT) + ": "
                            + line.substring(line.indexOf(": ") + 2));
                    terminal.flush();
                }
            }
        }

        @Override
        public void flush() { terminal.flush(); }

        @Override
        public void close() { }
    }
}
