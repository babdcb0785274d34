package dev.jlens.study;

import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Counts full SAE loads while open: every load that maps and validates an SAE's weights logs one INFO line
 * "SAE &lt;file&gt;: &lt;architecture&gt; d_in=... decoder row norms ..." (dev.jlens.sae.Sae), which is appended to the list.
 */
final class SaeLoads implements AutoCloseable {
    private final Logger jul = Logger.getLogger("dev.jlens.sae.Sae");
    private final Level level = jul.getLevel();
    private final Handler handler;

    private SaeLoads(List<String> out) {
        handler = new Handler() {
            @Override public void publish(LogRecord r) {
                String m = r.getMessage();
                if (m != null && m.startsWith("SAE ") && m.contains("decoder row norms")) out.add(m);
            }
            @Override public void flush() {}
            @Override public void close() {}
        };
        jul.setLevel(Level.INFO);
        jul.addHandler(handler);
    }

    static SaeLoads count(List<String> out) { return new SaeLoads(out); }

    @Override public void close() {
        jul.removeHandler(handler);
        jul.setLevel(level);
    }
}
