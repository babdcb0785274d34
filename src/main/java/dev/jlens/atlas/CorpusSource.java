package dev.jlens.atlas;

import dev.jlens.atlas.corpus.ContextPlan;
import dev.jlens.atlas.corpus.CorpusContext;
import dev.jlens.atlas.corpus.CorpusSpec;
import dev.jlens.atlas.corpus.Tokenizer;
import dev.jlens.llama.Vocab;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The corpus files of a {@link CorpusSpec} as atlas contexts, tokenized by the model's own tokenizer. The file
 * list is resolved once, when this is built, so every pass reads the same files.
 */
public final class CorpusSource implements ContextSource {
    private final CorpusSpec spec;
    private final List<Path> files;
    private final Tokenizer tokenizer;
    private final int bos;
    private final Path hashCache;
    private volatile Map<String, Object> counters = Map.of();

    public CorpusSource(CorpusSpec spec, Tokenizer tokenizer, int bos, Path hashCache) throws IOException {
        this.spec = spec;
        this.files = spec.resolve();
        for (Path f : files) refuseParquet(f);
        this.tokenizer = tokenizer;
        this.bos = bos;
        this.hashCache = hashCache;
    }

    /**
     * The embedded engine reads text, JSONL and their gzip forms; Parquet (by name, or by its "PAR1" magic) is read by
     * the Spark job only: no lean Parquet reader exists on Maven Central (parquet-java's reader needs Hadoop's
     * classes and codecs: ~60 MB of jars next to jlens's 4.3 MB of dependencies; docs/atlas.md).
     */
    static void refuseParquet(Path f) throws IOException {
        boolean named = f.getFileName() != null && f.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".parquet");
        byte[] head = new byte[4];
        int n = 0;
        if (!named && Files.isRegularFile(f) && Files.size(f) >= 12) {
            try (InputStream in = Files.newInputStream(f)) {
                n = in.readNBytes(head, 0, 4);
            }
        }
        if (named || (n == 4 && Arrays.equals(head, new byte[] {'P', 'A', 'R', '1'}))) {
            throw new IllegalArgumentException(f + " is a Parquet file, which the embedded engine does not read: run the atlas on Spark "
                    + "(scripts/jlens-spark atlas ... --spark local[2] reads Parquet with --text-field), or convert it to JSONL first, e.g. "
                    + "python3 -c \"import pandas as pd; pd.read_parquet('" + f.getFileName() + "').to_json('corpus.jsonl', orient='records', lines=True)\"");
        }
    }

    /** The model's tokenizer without the BOS it may prepend (contexts get their own). */
    public static Tokenizer tokenizer(Vocab vocab) {
        return text -> {
            int[] t = vocab.tokenize(text);
            return t.length > 0 && vocab.addsBos() && t[0] == vocab.bos() ? Arrays.copyOfRange(t, 1, t.length) : t;
        };
    }

    @Override
    public Pass open() throws IOException {
        ContextPlan plan = ContextPlan.open(spec, files, tokenizer, bos);
        return new Pass() {
            long index;

            @Override
            public AtlasContext next() throws IOException {
                CorpusContext c = plan.next();
                if (c == null) {
                    counters = plan.counters().toMap();
                    return null;
                }
                return new AtlasContext(c.id(), index++, c.tokens());
            }

            @Override
            public void close() throws IOException { plan.close(); }
        };
    }

    @Override
    public Map<String, Object> describe() throws IOException { return spec.describe(files, hashCache); }

    @Override
    public Map<String, Object> counters() { return counters; }
}
