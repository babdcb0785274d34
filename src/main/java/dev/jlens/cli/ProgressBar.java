package dev.jlens.cli;

import dev.jlens.api.ProgressListener;

import java.io.PrintWriter;

/** A one-line progress bar on stderr with the stage's rate and the time left, redrawn at most ten times a second. */
final class ProgressBar implements ProgressListener {
    private final PrintWriter err;
    private String stage;
    private long stageStart;
    private long firstDone;
    private long lastDraw;

    ProgressBar(PrintWriter err) { this.err = err; }

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
        err.printf("\r%-10s [%s%s] %d/%d  %.1f/s%s   ", stage, "#".repeat(filled), " ".repeat(width - filled), done, total, rate, eta);
        if (done >= total) err.println();
        err.flush();
    }

    private static String duration(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format("%dh%02dm", t / 3600, t / 60 % 60) : t >= 60 ? String.format("%dm%02ds", t / 60, t % 60) : t + "s";
    }
}
