package dev.jlens.atlas.corpus;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;

/**
 * The contexts of a whole corpus, in corpus order (document by document, chunk by chunk), streamed: it holds one
 * document and its tokens at a time, whatever the corpus size. Single pass, not thread-safe; close it (try-with-
 * resources) to release the open file.
 *
 * <p>With {@code maxTokens > 0} the plan stops before the first context that would take the total token count
 * (BOS included) over the cap; later, shorter contexts are not used to fill up, so the contexts are always a prefix
 * of the uncapped sequence.
 *
 * <pre>{@code
 * try (ContextPlan plan = ContextPlan.open(spec, tokenizer, bosId)) {
 *     plan.forEach(c -> run(c.id(), c.tokens()));
 *     metadata.put("corpus_counters", plan.counters().toMap());
 * }
 * }</pre>
 */
public final class ContextPlan implements AutoCloseable {
    /** Receives contexts in order; may throw IOException, which stops {@link #forEach}. */
    @FunctionalInterface
    public interface ContextAction {
        void accept(CorpusContext context) throws IOException;
    }

    private final CorpusSpec spec;
    private final CorpusReader reader;
    private final ContextCutter cutter;
    private Document document;
    private int[] documentTokens;
    private int chunk;
    private int chunks;
    private long emptyDocuments;
    private long contexts;
    private long tokens;
    private boolean capReached;
    private boolean done;
    private Exception failure;
    private boolean iterated;
    private boolean closed;

    private ContextPlan(CorpusSpec spec, List<Path> files, Tokenizer tokenizer, int bosId) {
        this.spec = Objects.requireNonNull(spec, "spec");
        this.cutter = new ContextCutter(tokenizer, bosId, spec.contextLength());
        this.reader = CorpusReader.open(spec, files);
    }

    /** Resolves the spec's inputs against the working directory and opens the plan. */
    public static ContextPlan open(CorpusSpec spec, Tokenizer tokenizer, int bosId) throws IOException {
        return new ContextPlan(spec, spec.resolve(), tokenizer, bosId);
    }

    /** A plan over already resolved files (from {@link CorpusSpec#resolve}), e.g. those described in the run's metadata. */
    public static ContextPlan open(CorpusSpec spec, List<Path> files, Tokenizer tokenizer, int bosId) {
        return new ContextPlan(spec, files, tokenizer, bosId);
    }

    public CorpusSpec spec() {
        return spec;
    }

    /** The files in reading order. */
    public List<Path> files() {
        return reader.files();
    }

    /**
     * The next context, or null when the corpus (or the token cap) is exhausted. A bad document without skipBad
     * throws its {@link CorpusException}; the plan is then failed and every later call throws IllegalStateException.
     * A document id of 2^32 or more (a context id could not carry it) fails the same way.
     */
    public CorpusContext next() throws IOException {
        if (closed) throw new IllegalStateException("the corpus plan is closed");
        if (failure != null) throw new IllegalStateException("the corpus plan failed earlier: " + failure.getMessage(), failure);
        if (done) return null;
        try {
            return advance();
        } catch (IOException | RuntimeException e) {
            failure = e;
            done = true;
            documentTokens = null;
            throw e;
        }
    }

    private CorpusContext advance() throws IOException {
        while (true) {
            if (chunk < chunks) {
                CorpusContext c = cutter.context(document.id(), documentTokens, chunk);
                if (spec.maxTokens() > 0 && tokens + c.length() > spec.maxTokens()) {
                    capReached = true;
                    finish();
                    return null;
                }
                chunk++;
                contexts++;
                tokens += c.length();
                return c;
            }
            Document d = reader.next();
            if (d == null) {
                finish();
                return null;
            }
            if (d.id() >= CorpusContext.MAX_DOCUMENTS) {
                throw new CorpusException(d.file(), d.line(), null,
                        "document id " + d.id() + " is 2^32 or more, which a context id cannot carry; split the corpus");
            }
            document = d;
            documentTokens = cutter.tokenize(d);
            chunk = 0;
            chunks = cutter.chunkCount(documentTokens.length);
            if (chunks == 0) emptyDocuments++;
        }
    }

    private void finish() throws IOException {
        done = true;
        document = null;
        documentTokens = null;
        chunk = chunks = 0;
        reader.close();
    }

    /** Gives every remaining context to {@code action}, in order. */
    public void forEach(ContextAction action) throws IOException {
        Objects.requireNonNull(action, "action");
        for (CorpusContext c = next(); c != null; c = next()) action.accept(c);
    }

    /**
     * The remaining contexts as an iterator (once per plan: it shares the plan's position). An IOException from
     * reading surfaces as an {@link UncheckedIOException} whose cause is it (a {@link CorpusException} for bad input).
     */
    public Iterator<CorpusContext> iterator() {
        if (iterated) throw new IllegalStateException("iterator() may be called once per plan");
        iterated = true;
        return new Iterator<>() {
            private CorpusContext peeked;

            @Override
            public boolean hasNext() {
                if (peeked == null) {
                    try {
                        peeked = ContextPlan.this.next();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
                return peeked != null;
            }

            @Override
            public CorpusContext next() {
                if (!hasNext()) throw new NoSuchElementException();
                CorpusContext c = peeked;
                peeked = null;
                return c;
            }
        };
    }

    /** The counters so far (all of them once {@link #next()} has returned null). */
    public CorpusCounters counters() {
        return new CorpusCounters(reader.documents(), reader.skipped(), emptyDocuments, contexts, tokens,
                tokens - contexts, capReached);
    }

    @Override
    public void close() throws IOException {
        closed = true;
        done = true;
        documentTokens = null;
        reader.close();
    }
}
