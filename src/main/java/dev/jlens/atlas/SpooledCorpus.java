package dev.jlens.atlas;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A corpus read once - files opened, documents decoded and validated, tokenized by the model, cut into contexts -
 * and spooled to a local file of contexts (id, index, tokens; about 4 bytes per token), which every later pass
 * (the first pass's shards, the example windows, the Spark driver's waves) reads back instead of tokenizing again.
 * The read also checks every context against {@code --context} and counts contexts and tokens, so a bad corpus
 * fails before the model runs. Memory does not grow with the corpus: the spool is streamed both ways.
 */
public final class SpooledCorpus implements ContextSource {
    private static final int MAGIC = 0x4A4C5350; // "JLSP"

    private final ContextSource source;
    private final Path file;
    private final long contexts;
    private final long tokens;
    private final Map<String, Object> counters;

    private SpooledCorpus(ContextSource source, Path file, long contexts, long tokens, Map<String, Object> counters) {
        this.source = source;
        this.file = file;
        this.contexts = contexts;
        this.tokens = tokens;
        this.counters = counters;
    }

    /** Reads {@code source} once into {@code file} (replaced if present). */
    public static SpooledCorpus spool(ContextSource source, Path file, AtlasSettings s) throws IOException {
        long n = 0, t = 0;
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (ContextSource.Pass p = source.open();
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16))) {
            out.writeInt(MAGIC);
            for (AtlasContext c = p.next(); c != null; c = p.next()) {
                if (c.tokens().length > s.contextLength()) {
                    throw new IllegalArgumentException("context " + c.id() + " has " + c.tokens().length + " tokens, more than --context " + s.contextLength());
                }
                out.writeByte(1);
                out.writeLong(c.id());
                out.writeLong(c.index());
                out.writeInt(c.tokens().length);
                for (int x : c.tokens()) out.writeInt(x);
                n++;
                t += c.tokens().length;
            }
            out.writeByte(0);
        }
        return new SpooledCorpus(source, file, n, t, source.counters());
    }

    /** Contexts in the corpus. */
    public long contexts() { return contexts; }

    /** Tokens in the corpus, BOS included. */
    public long tokens() { return tokens; }

    /** Deletes the spool file. */
    public void delete() throws IOException {
        Files.deleteIfExists(file);
    }

    @Override
    public Pass open() throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16));
        try {
            if (in.readInt() != MAGIC) throw new IOException(file + " is not a context spool");
        } catch (IOException e) {
            in.close();
            throw e;
        }
        return new Pass() {
            boolean done;

            @Override
            public AtlasContext next() throws IOException {
                if (done) return null;
                try {
                    if (in.readByte() == 0) {
                        done = true;
                        return null;
                    }
                    long id = in.readLong(), index = in.readLong();
                    int[] t = new int[in.readInt()];
                    for (int i = 0; i < t.length; i++) t[i] = in.readInt();
                    return new AtlasContext(id, index, t);
                } catch (EOFException e) {
                    throw new IOException(file + " ends early: the context spool was cut (disk full?)", e);
                }
            }

            @Override
            public void close() throws IOException { in.close(); }
        };
    }

    @Override
    public Map<String, Object> describe() throws IOException { return source.describe(); }

    @Override
    public Map<String, Object> counters() { return counters; }
}
