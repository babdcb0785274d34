package dev.jlens.activations;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Captured activations in shards of whole prompts: the study's own cache ({@link ActivationCache}) or folders written
 * by `jlens capture` ({@link CaptureFolders}). Prompt indices are global: target prompts first, then control prompts.
 */
public interface ActivationSource {
    int shards();

    ShardMeta meta(int shard) throws IOException;

    /** Visits a shard's rows (f32 [rows x n_embd], read-only) with its metadata. */
    void read(int shard, ShardVisitor visitor) throws IOException;

    /** Where per-SAE aggregate caches for this source live. */
    Path dir();

    default int nEmbd() throws IOException { return meta(0).nEmbd(); }
}
