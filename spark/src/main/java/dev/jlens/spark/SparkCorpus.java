package dev.jlens.spark;

import dev.jlens.atlas.AtlasContext;
import dev.jlens.atlas.ContextSource;
import dev.jlens.atlas.corpus.ContextCutter;
import dev.jlens.atlas.corpus.CorpusContext;
import dev.jlens.atlas.corpus.CorpusCounters;
import dev.jlens.atlas.corpus.CorpusException;
import dev.jlens.atlas.corpus.CorpusFormat;
import dev.jlens.atlas.corpus.CorpusSpec;
import dev.jlens.atlas.corpus.Document;
import dev.jlens.atlas.corpus.SkipReason;
import dev.jlens.atlas.corpus.Tokenizer;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.storage.StorageLevel;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.monotonically_increasing_id;

/**
 * A corpus read by Spark's own readers on the driver, for what the embedded engine's file reader cannot open: Parquet
 * (a {@code .parquet} file, folder or glob; the string column {@code --text-field}, one document per row, e.g. the
 * {@code text} of NeelNanda/pile-10k) on any Hadoop file system, and text files with one document per line on a
 * Hadoop URI ({@code hdfs://}, {@code s3a://}, {@code file://}...). Several inputs are separated by commas.
 *
 * <p>Document order is fixed and independent of Spark's split planning: files by path, then rows in file order
 * (Parquet's {@code _metadata.row_index}; for text, the split's start offset and the row's position in its split);
 * document ids count rows in that order from 0, as lines do in the embedded reader. The sorted documents are
 * persisted once and streamed to the driver partition by partition ({@code toLocalIterator}) on every pass.
 * Contexts are cut and capped exactly as by the embedded reader ({@link ContextCutter}, stop before the context
 * that would pass {@code --max-tokens}). A null text is a bad document ({@code not_string}): an error naming the
 * file and row, or skipped and counted with {@code --skip-bad}. JSONL and whole-file formats are read from local
 * paths only (by {@link dev.jlens.atlas.CorpusSource}).
 */
final class SparkCorpus implements ContextSource {
    private final SparkSession spark;
    private final CorpusSpec spec;
    private final boolean parquet;
    private final List<String> paths;
    private final ContextCutter cutter;
    private final Dataset<Row> documents;
    private final List<String> files;
    private Map<String, Object> description;
    private volatile Map<String, Object> counters = Map.of();

    /** Whether {@code inputs} is for this reader: a Hadoop URI, or Parquet by name. */
    static boolean handles(String inputs) {
        for (String p : split(inputs)) {
            if (p.contains("://") || p.startsWith("file:") || isParquet(p)) return true;
        }
        return false;
    }

    private static boolean isParquet(String p) {
        return p.replaceAll("/+$", "").toLowerCase(Locale.ROOT).endsWith(".parquet");
    }

    private static List<String> split(String inputs) {
        return Arrays.stream(inputs.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    SparkCorpus(SparkSession spark, CorpusSpec spec, Tokenizer tokenizer, int bos) {
        this.spark = spark;
        this.spec = spec;
        this.paths = split(spec.inputs());
        if (paths.isEmpty()) throw new IllegalArgumentException("--corpus is empty");
        long pq = paths.stream().filter(SparkCorpus::isParquet).count();
        if (pq != 0 && pq != paths.size()) throw new IllegalArgumentException("--corpus " + spec.inputs() + ": mixes Parquet and text inputs");
        this.parquet = pq != 0;
        this.cutter = new ContextCutter(tokenizer, bos, spec.contextLength());
        Dataset<Row> raw, d;
        if (parquet) {
            if (spec.format() != CorpusFormat.AUTO) throw new IllegalArgumentException("--format " + spec.format().cliName() + " does not apply to Parquet input " + spec.inputs());
            raw = spark.read().parquet(paths.toArray(String[]::new));
            StructField[] fields = raw.schema().fields();
            StructField text = Arrays.stream(fields).filter(f -> f.name().equals(spec.textField())).findFirst().orElseThrow(() ->
                    new IllegalArgumentException("--text-field " + spec.textField() + ": no such column in " + spec.inputs() + " (columns: "
                            + Arrays.stream(fields).map(StructField::name).toList() + ")"));
            if (!text.dataType().equals(DataTypes.StringType)) {
                throw new IllegalArgumentException("--text-field " + spec.textField() + " of " + spec.inputs() + " is " + text.dataType().simpleString() + ", not a string");
            }
            d = raw.select(col(spec.textField()).as("text"), col("_metadata.file_path").as("file"), col("_metadata.row_index").as("row"))
                    .orderBy("file", "row");
        } else {
            CorpusFormat f = spec.format();
            boolean lines = f == CorpusFormat.LINES || (f == CorpusFormat.AUTO && paths.stream().allMatch(p -> CorpusFormat.AUTO.forFile(Path.of(lastName(p))) == CorpusFormat.LINES));
            if (!lines) {
                throw new IllegalArgumentException("--corpus " + spec.inputs() + ": on a Hadoop path the Spark job reads Parquet and text lines; "
                        + "read JSONL or whole files from a local path, or convert them to Parquet");
            }
            raw = spark.read().text(paths.toArray(String[]::new));
            d = raw.select(col("value").as("text"), col("_metadata.file_path").as("file"), col("_metadata.file_block_start").as("block"),
                            monotonically_increasing_id().as("row"))
                    .orderBy("file", "block", "row");
        }
        // the files as the scan lists them (a persisted plan lists none)
        List<String> in = new ArrayList<>(Arrays.asList(raw.inputFiles()));
        this.documents = d.persist(StorageLevel.MEMORY_AND_DISK());
        Collections.sort(in);
        this.files = List.copyOf(in);
    }

    private static String lastName(String p) {
        String s = p.replaceAll("/+$", "");
        return s.substring(s.lastIndexOf('/') + 1);
    }

    @Override
    public Pass open() {
        Iterator<Row> rows = documents.toLocalIterator();
        return new Pass() {
            long id = -1;
            String file;
            long line;
            Document document;
            int[] tokens;
            int chunk, chunks;
            long nDocuments, empty, contexts, tokensSoFar, index;
            final Map<String, Long> skipped = new TreeMap<>();
            boolean done;

            @Override
            public AtlasContext next() throws IOException {
                if (done) return null;
                while (true) {
                    if (chunk < chunks) {
                        CorpusContext c = cutter.context(document.id(), tokens, chunk);
                        if (spec.maxTokens() > 0 && tokensSoFar + c.length() > spec.maxTokens()) return finish(true);
                        chunk++;
                        contexts++;
                        tokensSoFar += c.length();
                        return new AtlasContext(c.id(), index++, c.tokens());
                    }
                    if (!rows.hasNext()) return finish(false);
                    Row r = rows.next();
                    id++;
                    String f = r.getString(1);
                    line = f.equals(file) ? line + 1 : 1;
                    file = f;
                    if (r.isNullAt(0)) {
                        if (!spec.skipBad()) {
                            throw new CorpusException(Path.of(f), line, SkipReason.NOT_STRING, "--text-field " + spec.textField() + " is null (row " + line + ")");
                        }
                        skipped.merge(SkipReason.NOT_STRING.code(), 1L, Long::sum);
                        continue;
                    }
                    if (id >= CorpusContext.MAX_DOCUMENTS) {
                        throw new CorpusException(Path.of(f), line, null, "document id " + id + " is 2^32 or more, which a context id cannot carry; split the corpus");
                    }
                    nDocuments++;
                    document = new Document(id, Path.of(f), line, r.getString(0));
                    tokens = cutter.tokenize(document);
                    chunk = 0;
                    chunks = cutter.chunkCount(tokens.length);
                    if (chunks == 0) empty++;
                }
            }

            private AtlasContext finish(boolean cap) {
                done = true;
                document = null;
                tokens = null;
                counters = new CorpusCounters(nDocuments, skipped, empty, contexts, tokensSoFar, tokensSoFar - contexts, cap).toMap();
                return null;
            }

            @Override
            public void close() {
                done = true;
            }
        };
    }

    /** inputs, format, text field, limits, and each input file (sorted) with its size and SHA-256, read through Hadoop. */
    @Override
    public synchronized Map<String, Object> describe() throws IOException {
        if (description != null) return description;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("inputs", spec.inputs());
        m.put("format", parquet ? "parquet" : CorpusFormat.LINES.cliName());
        m.put("text_field", spec.textField());
        m.put("skip_bad", spec.skipBad());
        m.put("context_length", spec.contextLength());
        m.put("max_tokens", spec.maxTokens());
        m.put("reader", "spark");
        List<Map<String, Object>> list = new ArrayList<>();
        for (String f : files) {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(f);
            FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
            FileStatus st = fs.getFileStatus(p);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("path", f);
            e.put("size", st.getLen());
            e.put("sha256", sha256(fs, p));
            list.add(Collections.unmodifiableMap(e));
        }
        m.put("files", Collections.unmodifiableList(list));
        description = Collections.unmodifiableMap(m);
        return description;
    }

    private static String sha256(FileSystem fs, org.apache.hadoop.fs.Path p) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = new DigestInputStream(fs.open(p), md)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Drops the persisted documents from the executors' storage (the job is done with them). */
    void release() {
        documents.unpersist(false);
    }

    @Override
    public Map<String, Object> counters() {
        return counters;
    }
}
