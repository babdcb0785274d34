package dev.jlens.atlas.corpus;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Cuts a document's tokens into model contexts: consecutive chunks of {@code contextLength - 1} tokens, each
 * prefixed with BOS, so every context has at most {@code contextLength} tokens with BOS at position 0. The last chunk
 * may be shorter; a document shorter than one context is one context; a document with no tokens yields none.
 *
 * @param tokenizer text to ids without BOS
 * @param bosId the beginning-of-sequence id, >= 0
 * @param contextLength tokens per context including BOS, >= 2
 */
public record ContextCutter(Tokenizer tokenizer, int bosId, int contextLength) {
    public ContextCutter {
        Objects.requireNonNull(tokenizer, "tokenizer");
        if (bosId < 0) throw new IllegalArgumentException("BOS id must be >= 0, got " + bosId);
        if (contextLength < 2) {
            throw new IllegalArgumentException("--context-length must be at least 2 (BOS + one token), got " + contextLength);
        }
    }

    /**
     * The document's tokens (no BOS). Fails with IllegalStateException if the tokenizer returns null, a negative
     * id, or starts with BOS (a tokenizer that adds BOS itself would give every context two).
     */
    public int[] tokenize(Document document) {
        int[] ids = tokenizer.tokenize(document.text());
        if (ids == null) throw new IllegalStateException("tokenizer returned null for document " + document.id());
        if (ids.length > 0 && ids[0] == bosId) {
            throw new IllegalStateException("tokenizer returned BOS (" + bosId + ") first for document " + document.id()
                    + " (" + document.file() + ": line " + document.line() + "); tokenize without special tokens, the cutter adds BOS");
        }
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) {
                throw new IllegalStateException("tokenizer returned id " + ids[i] + " at position " + i + " for document " + document.id());
            }
        }
        return ids;
    }

    /** How many contexts a document of {@code tokenCount} tokens (no BOS) gives. */
    public static int chunkCount(int tokenCount, int contextLength) {
        if (tokenCount < 0) throw new IllegalArgumentException("tokenCount must be >= 0, got " + tokenCount);
        if (contextLength < 2) throw new IllegalArgumentException("contextLength must be >= 2, got " + contextLength);
        int per = contextLength - 1;
        return tokenCount / per + (tokenCount % per == 0 ? 0 : 1);
    }

    /** How many contexts a document of {@code tokenCount} tokens (no BOS) gives. */
    public int chunkCount(int tokenCount) {
        return chunkCount(tokenCount, contextLength);
    }

    /** Context {@code chunk} of a document whose tokens (no BOS) are {@code documentTokens}. */
    public CorpusContext context(long document, int[] documentTokens, int chunk) {
        int per = contextLength - 1;
        int chunks = chunkCount(documentTokens.length);
        if (chunk < 0 || chunk >= chunks) {
            throw new IllegalArgumentException("chunk " + chunk + " out of range: document " + document + " has " + chunks);
        }
        int from = chunk * per;
        int n = Math.min(per, documentTokens.length - from);
        int[] out = new int[n + 1];
        out[0] = bosId;
        System.arraycopy(documentTokens, from, out, 1, n);
        return CorpusContext.of(document, chunk, out);
    }

    /** All contexts of one document, in chunk order. */
    public List<CorpusContext> cut(Document document) {
        int[] ids = tokenize(document);
        int chunks = chunkCount(ids.length);
        List<CorpusContext> out = new ArrayList<>(chunks);
        for (int c = 0; c < chunks; c++) out.add(context(document.id(), ids, c));
        return out;
    }

    @Override
    public String toString() {
        return "ContextCutter[bosId=" + bosId + ", contextLength=" + contextLength + "]";
    }
}
