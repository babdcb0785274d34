package dev.jlens.cli;

import dev.jlens.api.ProgressListener;

import java.io.PrintWriter;

/** A one-line progress bar on stderr with the stage's rate and the time left, redrawn at most ten times a second. */
final class ProgressBar implements ProgressListener {
    /** Whether some bar's line is drawn without its newline yet (a log line printed now would be glued to it). */
    private static volatile boolean lineOpen;
    private final PrintWriter err;
    private String stage;
    private long stageStart;
    private long firstDone;
    private long lastDraw;

    private final java.util.Map<String, String> units = new java.util.HashMap<>();

    /** A bar with the units of the stages whose name says it: generations, and the atlas's tokens. */
    ProgressBar(PrintWriter err) {
        this.err = err;
        units.putAll(java.util.Map.of("generate", "generations", "scan", "tokens", "examples", "tokens"));
    }

    /**
     * A bar that names each stage's unit.
     *
     * @param stageUnits pairs: a stage's first word ({@code capture}, {@code encode}, {@code generate}...) and its unit
     */
    ProgressBar(PrintWriter err, String... stageUnits) {
        this(err);
        for (int i = 0; i + 1 < stageUnits.length; i += 2) units.put(stageUnits[i], stageUnits[i + 1]);
    }

    @Override
    public synchronized void update(String stage, long done, long total) {
        long now = System.nanoTime();
        if (!stage.equals(this.stage)) {
            // rates count from the stage's first update, so work resumed from a checkpoint does not inflate them
            this.stage = stage;
            stageStart = now;
            firstDone = done;
        }
        if (done < total && now - lastDraw < 100_000_000L) return;
        lastDraw = now;
        int width = 30;
        int filled = total <= 0 ? 0 : (int) Math.min(width, width * done / total);
        double secs = (now - stageStart) / 1e9;
        double rate = secs > 0 ? (done - firstDone) / secs : 0.0;
        String eta = done < total && rate > 0 ? "  ETA " + duration((total - done) / rate) : "";
        String unit = units.getOrDefault(stage.split(" ", 2)[0], "");
        String per = unit.isEmpty() ? "/s" : " " + unit + "/s";
        err.printf("\r%-10s [%s%s] %d/%d%s  %.1f%s%s   ", stage, "#".repeat(filled), " ".repeat(width - filled), done, total,
                unit.isEmpty() ? "" : " " + unit, rate, per, eta);
        lineOpen = done < total;
        if (!lineOpen) err.println();
        err.flush();
    }

    /** Ends a half-drawn bar's line, so that a message printed next starts on a line of its own. */
    static void breakLine(PrintWriter terminal) {
        if (lineOpen) {
            lineOpen = false;
            terminal.println();
        }
    }

    private static String duration(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, t / 60 % 60) : t >= 60 ? String.format("%dm%02ds", t / 60, t % 60) : t + "s";
    }
}
