package dev.jlens.api;

import dev.jlens.util.Progress;

/** Package-private adapters from API types to the internal ones the facades delegate to. */
final class Bridge {
    private Bridge() {}

    /** The internal progress callback for a listener; null means no progress. */
    static Progress progress(ProgressListener p) {
        return p == null ? Progress.NONE : p::update;
    }
}
