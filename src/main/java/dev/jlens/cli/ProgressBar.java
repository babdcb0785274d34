package dev.jlens.cli;

import dev.jlens.api.ProgressListener;

import java.io.PrintWriter;

/** A one-line progress bar on stderr, redrawn at most ten times a second. */
final class ProgressBar implements ProgressListener {
    private final PrintWriter err;
    private final long start = System.nanoTime();
    private long lastDraw;

    ProgressBar(PrintWriter err) { this.err = err; }

    @Override
    public synchronized void update(String stage, long done, long total) {
        long now = System.nanoTime();
        if (done < total && now - lastDraw < 100_000_000L) return;
        lastDraw = now;
        int width = 30;
        int filled = total <= 0 ? 0 : (int) Math.min(width, width * done / total);
        double secs = (now - start) / 1e9;
        err.printf("\r%-10s [%s%s] %d/%d  %.1f/s", stage, "#".repeat(filled), " ".repeat(width - filled), done, total,
                secs > 0 ? done / secs : 0.0);
        if (done >= total) err.println();
        err.flush();
    }
}
