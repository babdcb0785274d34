package dev.jlens.atlas.corpus;

import java.util.Arrays;
import java.util.Objects;

/**
 * One model input cut from a document: BOS at position 0, then up to {@code contextLength - 1} of the document's
 * tokens.
 *
 * @param id {@code document + chunk * 2^32}: chunk 0 has the document's id; see {@link #idOf}
 * @param document the document id, {@code 0 <= document < 2^32}
 * @param chunk the 0-based chunk of the document
 * @param tokens the model input, BOS first; not copied (callers must not modify it)
 */
public record CorpusContext(long id, long document, int chunk, int[] tokens) {
    /** Document ids must be below this so that a context id can carry the chunk in its upper 32 bits. */
    public static final long MAX_DOCUMENTS = 1L << 32;

    public CorpusContext {
        if (document < 0 || document >= MAX_DOCUMENTS) {
            throw new IllegalArgumentException("document id must be in [0, 2^32), got " + document);
        }
        if (chunk < 0) throw new IllegalArgumentException("chunk must be >= 0, got " + chunk);
        if (id != idOf(document, chunk)) {
            throw new IllegalArgumentException("context id " + id + " is not document " + document + " + chunk " + chunk + " * 2^32");
        }
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length < 2) throw new IllegalArgumentException("a context holds BOS and at least one token, got " + tokens.length);
    }

    /** A context with its id computed from the document and chunk. */
    public static CorpusContext of(long document, int chunk, int[] tokens) {
        return new CorpusContext(idOf(document, chunk), document, chunk, tokens);
    }

    /** {@code document + chunk * 2^32}. */
    public static long idOf(long document, int chunk) {
        if (document < 0 || document >= MAX_DOCUMENTS) {
            throw new IllegalArgumentException("document id must be in [0, 2^32), got " + document);
        }
        if (chunk < 0) throw new IllegalArgumentException("chunk must be >= 0, got " + chunk);
        return document + ((long) chunk << 32);
    }

    /** The document id of a context id. */
    public static long documentOf(long contextId) {
        return contextId & (MAX_DOCUMENTS - 1);
    }

    /** The chunk of a context id. */
    public static int chunkOf(long contextId) {
        return (int) (contextId >>> 32);
    }

    /** Number of tokens, BOS included. */
    public int length() {
        return tokens.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CorpusContext c && c.id == id && c.document == document && c.chunk == chunk
                && Arrays.equals(c.tokens, tokens);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(id) * 31 + Arrays.hashCode(tokens);
    }

    @Override
    public String toString() {
        return "CorpusContext[id=" + id + ", document=" + document + ", chunk=" + chunk + ", tokens="
                + Arrays.toString(tokens) + "]";
    }
}
