package dev.jlens.activations;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Captured activations in shards of whole prompts: the experiment's own cache ({@link ActivationCache}) or
 * folders written by `jlens capture` ({@link CaptureFolders}). Prompt indices are global: target prompts
 * first, then control prompts.
 */
public interface ActivationSource {
    int shards();

    ActivationCache.ShardMeta meta(int shard) throws IOException;

    /** Visits a shard's rows (f32 [rows x n_embd], read-only) with its metadata. */
    void read(int shard, ActivationCache.ShardVisitor visitor) throws IOException;

    /** Where per-SAE aggregate caches for this source live. */
    java.nio.file.Path dir();

    default int nEmbd() throws IOException { return meta(0).nEmbd(); }

    /** Convenience for visitors that ignore the metadata. */
    interface RowsVisitor {
        void visit(MemorySegment rows) throws IOException;
    }
}
