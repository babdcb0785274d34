package dev.jlens.activations;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/** Receives one shard of an {@link ActivationSource}: its metadata and its rows (f32 [rows x n_embd], read-only). */
@FunctionalInterface
public interface ShardVisitor {
    void visit(ShardMeta meta, MemorySegment rows) throws IOException;
}
