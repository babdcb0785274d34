package dev.jlens.api;

/**
 * Progress of a long operation (a capture, an encode, the experiment's stages, steering generations), reported in
 * units the stage names: prompts for {@code capture}, shards or rows for {@code encode ...}, generations for
 * {@code generate ...}. {@code done} grows from 0 to {@code total}; a stage may report {@code done == total} more
 * than once, and stages follow each other in the order the operation runs them.
 *
 * <p>Threads: called on the thread running the operation, sometimes from inside a native callback; implementations
 * must be cheap, must not block, and must not throw (an exception would abort the operation). An implementation
 * shared between operations running at the same time must be thread-safe.
 */
@FunctionalInterface
public interface ProgressListener {
    /**
     * Reports progress of one stage.
     *
     * @param stage what is running, e.g. {@code "capture"}, {@code "encode coarse"}, {@code "generate coarse x4"}
     * @param done  units finished so far, {@code 0 <= done <= total}
     * @param total units in this stage
     */
    void update(String stage, long done, long total);

    /** A listener that ignores every update. */
    ProgressListener NONE = (stage, done, total) -> { };
}
