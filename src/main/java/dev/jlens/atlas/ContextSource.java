package dev.jlens.atlas;

import java.io.IOException;
import java.util.Map;

/**
 * The corpus as contexts, in a fixed order that every reader (embedded run, resume, second pass, Spark driver)
 * sees the same. Opening again starts from the beginning.
 */
public interface ContextSource {
    /** A pass over the contexts; {@link #next} returns null at the end. */
    interface Pass extends AutoCloseable {
        AtlasContext next() throws IOException;

        @Override
        void close() throws IOException;
    }

    Pass open() throws IOException;

    /** What identifies the corpus and how it was cut (paths, sizes, hashes, format, limits), for the run key. */
    Map<String, Object> describe() throws IOException;

    /** Counters of the last completed pass (documents, skipped by reason, contexts, tokens), for atlas.json. */
    Map<String, Object> counters();
}
