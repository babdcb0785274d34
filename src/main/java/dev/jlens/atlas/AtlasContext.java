package dev.jlens.atlas;

/**
 * One context of the corpus: its deterministic id, its index in corpus order (which fixes its batch and shard),
 * and its tokens (BOS first).
 */
public record AtlasContext(long id, long index, int[] tokens) {
    public AtlasContext {
        if (index < 0) throw new IllegalArgumentException("negative context index " + index);
        if (tokens == null || tokens.length < 1) throw new IllegalArgumentException("context " + id + " has no tokens");
    }
}
