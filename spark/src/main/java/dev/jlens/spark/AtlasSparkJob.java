package dev.jlens.spark;

import dev.jlens.atlas.AtlasContext;
import dev.jlens.atlas.AtlasEngine;
import dev.jlens.atlas.AtlasSettings;
import dev.jlens.atlas.ContextSource;
import dev.jlens.atlas.CorpusSource;
import dev.jlens.atlas.FeatureStats;
import dev.jlens.atlas.SpooledCorpus;
import dev.jlens.atlas.WindowRequests;
import dev.jlens.atlas.corpus.CorpusSpec;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.llama.Model;
import dev.jlens.util.FileHashes;
import dev.jlens.util.Json;
import dev.jlens.util.Progress;
import dev.jlens.sae.EncoderChoice;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The feature atlas as an Apache Spark application: the same job as {@link AtlasEngine}, with the shards of the
 * corpus computed on Spark's executors. The driver loads the model (for the tokenizer) and the SAEs, validates
 * everything and reads the whole corpus once before any work starts, exactly as the embedded engine does; then
 * <ol>
 *   <li>cuts the context stream into shards of {@code contextsPerShard} contexts (as the embedded engine does) and
 *       hands them to Spark in waves of whole shards: {@code parallelize} over N partitions, then
 *       {@code mapPartitions} runs {@link dev.jlens.atlas.ShardWork#scan} per shard on the executor's model and
 *       SAEs (opened once per executor JVM, {@link ExecutorResources}) and returns each shard's serialized
 *       statistics;</li>
 *   <li>merges the partials in shard order, checkpointing each to the same {@code .atlas-work} files as the
 *       embedded engine (a failed run resumes, from either engine's checkpoints);</li>
 *   <li>builds the {@link WindowRequests}, broadcasts them, and runs the second pass the same way over the
 *       shards that hold a requested example ({@link dev.jlens.atlas.ShardWork#windows}, which decodes only their
 *       batches that do);</li>
 *   <li>writes the Parquet tables with Spark's writer ({@link ParquetTables}), then the atlas folders with
 *       {@link AtlasEngine#finish}: the same bytes as an embedded run of the same job.</li>
 * </ol>
 * Decode batches are cut from each whole shard alone and the statistics merge associatively, so the numbers do
 * not depend on the partitioning. Spark does all the distribution; the job has no scheduling or shuffle of its own.
 */
public final class AtlasSparkJob {
    private static final System.Logger LOG = System.getLogger(AtlasSparkJob.class.getName());

    private AtlasSparkJob() {}

    /**
     * How the job uses Spark.
     *
     * @param partitions     partitions of each pass (0 = the context's default parallelism)
     * @param threadsPerTask CPU threads of the model in one task (0 = {@code spark.task.cpus}, so that the tasks of an
     *                       executor together use the cores Spark gave it)
     * @param shardsPerWave  shards handed to Spark per job (0 = 16 per partition): bounds what the driver holds of
     *                       the corpus at a time
     * @param parquetDir     Hadoop URI of a folder for the Parquet tables (with several SAEs, one subfolder each, named
     *                       as their atlas folders); null = inside each SAE's atlas folder, which on a cluster must then
     *                       be on storage every executor can write
     */
    public record SparkOptions(int partitions, int threadsPerTask, int shardsPerWave, String parquetDir) {
        public SparkOptions {
            if (partitions < 0 || partitions > 1_000_000) throw new IllegalArgumentException("--spark-partitions must be in [0, 1000000] (0 = Spark's default parallelism), got " + partitions);
            if (threadsPerTask < 0 || threadsPerTask > 4096) throw new IllegalArgumentException("threads per task must be in [0, 4096] (0 = spark.task.cpus), got " + threadsPerTask);
            if (shardsPerWave < 0) throw new IllegalArgumentException("shards per wave must be >= 0 (0 = 16 per partition), got " + shardsPerWave);
            if (parquetDir != null && parquetDir.isBlank()) throw new IllegalArgumentException("the Parquet folder is blank");
        }

        public static SparkOptions defaults() {
            return new SparkOptions(0, 0, 0, null);
        }

        public SparkOptions withPartitions(int n) { return new SparkOptions(n, threadsPerTask, shardsPerWave, parquetDir); }
        public SparkOptions withThreadsPerTask(int n) { return new SparkOptions(partitions, n, shardsPerWave, parquetDir); }
        public SparkOptions withShardsPerWave(int n) { return new SparkOptions(partitions, threadsPerTask, n, parquetDir); }
    }

    /** The Spark configuration key of {@link SparkOptions#parquetDir} (e.g. {@code spark-submit --conf spark.jlens.parquet.dir=hdfs://...}). */
    public static final String PARQUET_DIR_CONF = "spark.jlens.parquet.dir";

    /**
     * The entry point of {@code jlens atlas --spark MASTER} (called reflectively by {@code dev.jlens.api.Atlas},
     * so the core never links against Spark): starts a Spark session on {@code master} ({@code local[N]}, a cluster
     * URL, or {@code default} for the master of the Spark configuration, as under spark-submit), runs the job and
     * stops the session.
     *
     * @param partitions 0 = Spark's default parallelism
     * @param threads    model threads per task; 0 = {@code spark.task.cpus}
     */
    public static AtlasEngine.Result run(String master, int partitions, int threads, AtlasEngine.Job job, CorpusSpec corpus,
                                         Progress progress) throws IOException {
        if (master == null || master.isBlank()) throw new IllegalArgumentException("--spark needs a master: local[N], a cluster URL or 'default'");
        SparkSession.Builder b = SparkSession.builder().appName("jlens atlas");
        if (!master.equals("default")) b.master(master);
        SparkSession spark;
        try {
            spark = b.getOrCreate();
        } catch (Exception e) { // Scala throws the checked SparkException undeclared
            // Spark's own words for a master it does not know
            if (String.valueOf(e.getMessage()).startsWith("Could not parse Master URL")) {
                throw new IllegalArgumentException("--spark " + master + ": " + e.getMessage() + " (use local[N], spark://host:port, yarn, k8s://... or default)", e);
            }
            if (e instanceof RuntimeException re) throw re;
            throw new IllegalStateException("starting Spark on " + master + ": " + e.getMessage(), e);
        }
        try {
            String parquet = spark.sparkContext().getConf().get(PARQUET_DIR_CONF, null);
            SparkOptions o = new SparkOptions(partitions, threads, 0, parquet);
            return run(spark, o, job, corpusFactory(spark, corpus, job.out()), progress);
        } finally {
            spark.stop();
        }
    }

    /**
     * The corpus as the driver reads it: files on the driver's file system through the same {@link CorpusSource}
     * as the embedded engine; Parquet ({@code .parquet} files or folders, any Hadoop URI) and text lines on a
     * Hadoop URI (hdfs://, s3a://...) through Spark's own readers ({@link SparkCorpus}).
     */
    public static AtlasEngine.CorpusFactory corpusFactory(SparkSession spark, CorpusSpec spec, Path out) {
        if (SparkCorpus.handles(spec.inputs())) return m -> new SparkCorpus(spark, spec, CorpusSource.tokenizer(m.vocab()), m.vocab().bos());
        return m -> new CorpusSource(spec, CorpusSource.tokenizer(m.vocab()), m.vocab().bos(), out.resolve(".atlas-work"));
    }

    /** Runs the job on an existing session (which stays open). */
    public static AtlasEngine.Result run(SparkSession spark, SparkOptions opts, AtlasEngine.Job job, AtlasEngine.CorpusFactory corpusFor,
                                         Progress progress) throws IOException {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int partitions = opts.partitions() > 0 ? opts.partitions() : jsc.defaultParallelism();
        int threads = opts.threadsPerTask() > 0 ? opts.threadsPerTask() : jsc.getConf().getInt("spark.task.cpus", 1);
        int perWave = opts.shardsPerWave() > 0 ? opts.shardsPerWave() : 16 * partitions;
        // threads change speed, not the numbers (they are not in the run key)
        AtlasSettings s = job.settings().withThreads(threads);
        if (Files.exists(job.out()) && !Files.isDirectory(job.out())) throw new IllegalArgumentException("--out " + job.out() + " exists and is not a directory");
        try (Model model = Model.load(job.model())) {
            if (s.layer() >= model.nLayer()) throw new IllegalArgumentException("--layer " + s.layer() + ": the model has layers 0.." + (model.nLayer() - 1));
            if (model.vocab().bos() < 0) throw new IllegalArgumentException(job.model() + ": the model has no BOS token; atlas contexts start with BOS");
            List<Sae> saes = new ArrayList<>();
            ContextSource source = null;
            Path spool = null;
            try {
                for (String id : job.saes()) {
                    Sae sae = Sae.load(id);
                    saes.add(sae);
                    sae.validateFor(model.nEmbd());
                    AtlasEngine.checkLayer(sae, id, s.layer());
                }
                // the driver reads and tokenizes the corpus once; both passes' waves come from the spooled contexts
                source = corpusFor.open(model);
                spool = AtlasEngine.spoolFile();
                SpooledCorpus corpus = SpooledCorpus.spool(source, spool, s);
                long nContexts = corpus.contexts(), nTokens = corpus.tokens();
                if (nContexts == 0) throw new IllegalArgumentException("the corpus has no text: " + corpus.describe().get("inputs"));
                Map<String, Object> identity = AtlasEngine.identity(job, model, saes, corpus);
                Path work = job.out().resolve(".atlas-work").resolve(FileHashes.sha256(Json.MAPPER.writeValueAsString(identity)).substring(0, 16));
                Files.createDirectories(work);
                AtomicFiles.writeString(work.resolve("key.json"), Json.MAPPER.writeValueAsString(identity) + "\n");

                String content = FileHashes.sha256(Json.MAPPER.writeValueAsString(List.of(identity.get("model_sha256"), identity.get("saes"))));
                Driver d = new Driver(jsc, TaskSpec.of(executorPath(job.model().toString()), executorSaes(job.saes()), content, s), s,
                        partitions, perWave, saes.stream().mapToInt(Sae::dSae).toArray(), work, progress);
                List<FeatureStats> totals = d.scan(corpus, nTokens);
                WindowRequests req = WindowRequests.of(totals, s);
                WindowRequests.Results windows = d.windows(corpus, req, nTokens);
                if (d.encoders == null) driverEncoders(d, saes, s);
                List<String> encoders = d.encoders;

                List<Path> folders = job.folders();
                for (int i = 0; i < saes.size(); i++) {
                    Files.createDirectories(folders.get(i));
                    String root = opts.parquetDir() == null ? null : opts.parquetDir().replaceAll("/+$", "");
                    String dir = root == null ? folders.get(i).toAbsolutePath().toUri().toString()
                            : saes.size() == 1 ? root : root + "/" + folders.get(i).getFileName();
                    ParquetTables.write(spark, dir, totals.get(i), s);
                }
                AtlasEngine.finish(job, model, saes, totals, windows, identity, corpus.counters(), encoders, d.reasons);
                deleteTree(work);
                try (Stream<Path> rest = Files.list(work.getParent())) {
                    if (rest.findAny().isEmpty()) Files.delete(work.getParent());
                }
                return new AtlasEngine.Result(folders, nContexts, nTokens, d.computed, d.reused, req.contexts(), encoders);
            } finally {
                if (source instanceof SparkCorpus sc) sc.release();
                for (Sae sae : saes) sae.close();
                if (spool != null) Files.deleteIfExists(spool);
            }
        }
    }

    /** The two passes as Spark jobs, wave by wave, with the driver-side bookkeeping. */
    private static final class Driver {
        final JavaSparkContext jsc;
        final TaskSpec spec;
        final AtlasSettings s;
        final int partitions;
        final int perWave;
        final int nSaes;
        final int[] dSaes;
        final Path work;
        final Progress progress;
        int computed;
        int reused;
        /** Names this job's spill folder (ShardTasks.spillDir): a name only, no result depends on it. */
        final String nonce = java.util.UUID.randomUUID().toString();
        List<String> encoders;
        List<String> reasons;

        Driver(JavaSparkContext jsc, TaskSpec spec, AtlasSettings s, int partitions, int perWave, int[] dSaes, Path work, Progress progress) {
            this.jsc = jsc;
            this.spec = spec;
            this.s = s;
            this.partitions = partitions;
            this.perWave = perWave;
            this.nSaes = dSaes.length;
            this.dSaes = dSaes;
            this.work = work;
            this.progress = progress;
        }

        /** The next wave: up to perWave shards (empty at the end). */
        List<List<AtlasContext>> wave(ContextSource.Pass pass) throws IOException {
            List<List<AtlasContext>> w = new ArrayList<>();
            while (w.size() < perWave) {
                List<AtlasContext> sh = AtlasEngine.nextShard(pass, s);
                if (sh.isEmpty()) break;
                w.add(sh);
            }
            return w;
        }

        private static void deleteSpill(Path dir) {
            if (!Files.isDirectory(dir)) return;
            try (java.util.stream.Stream<Path> files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) Files.deleteIfExists(f);
                Files.deleteIfExists(dir);
            } catch (IOException | java.io.UncheckedIOException e) {
                LOG.log(System.Logger.Level.WARNING, "could not remove " + dir + ": " + e);
            }
        }

        Path checkpoint(int shard) {
            return work.resolve(String.format("shard-%06d.bin", shard));
        }

        List<FeatureStats> scan(ContextSource corpus, long nTokens) throws IOException {
            List<FeatureStats> totals = new ArrayList<>();
            for (int i = 0; i < nSaes; i++) totals.add(new FeatureStats(dSaes[i], s.topK(), s.sampleSize()));
            long done = 0;
            try (ContextSource.Pass pass = corpus.open()) {
                int first = 0;
                for (List<List<AtlasContext>> wave = wave(pass); !wave.isEmpty(); first += wave.size(), wave = wave(pass)) {
                    List<List<FeatureStats>> parts = new ArrayList<>();
                    List<ShardRecord> todo = new ArrayList<>();
                    for (int k = 0; k < wave.size(); k++) {
                        List<FeatureStats> p = AtlasEngine.readPartial(checkpoint(first + k), first + k, wave.get(k), nSaes);
                        parts.add(p);
                        if (p == null) todo.add(ShardRecord.of(first + k, wave.get(k)));
                        else reused++;
                    }
                    if (!todo.isEmpty()) {
                        jsc.setJobDescription("jlens atlas: statistics of shards " + todo.getFirst().shard() + ".." + todo.getLast().shard());
                        List<ShardTasks.ScanResult> results = new ArrayList<>(jsc.parallelize(todo, Math.min(partitions, todo.size()))
                                .mapPartitions(new ShardTasks.Scan(spec, nonce)).collect());
                        results.sort(Comparator.comparingInt(ShardTasks.ScanResult::shard));
                        for (ShardTasks.ScanResult r : results) {
                            int k = r.shard() - first;
                            if (k < 0 || k >= wave.size() || parts.get(k) != null) throw new IllegalStateException("Spark returned shard " + r.shard() + " unasked or twice");
                            List<FeatureStats> p = r.read();
                            if (p.size() != nSaes) throw new IllegalStateException("shard " + r.shard() + ": statistics of " + p.size() + " SAEs, expected " + nSaes);
                            agree(r.encoders(), r.reasons(), r.shard());
                            AtlasEngine.writePartial(checkpoint(r.shard()), r.shard(), wave.get(k), p);
                            parts.set(k, p);
                            computed++;
                        }
                    }
                    // the fixed-order merge: shard by shard, in corpus order
                    for (int k = 0; k < wave.size(); k++) {
                        if (parts.get(k) == null) throw new IllegalStateException("Spark returned no statistics for shard " + (first + k));
                        for (int i = 0; i < nSaes; i++) totals.get(i).merge(parts.get(k).get(i));
                        for (AtlasContext c : wave.get(k)) done += c.tokens().length;
                    }
                    progress.update("scan", done, nTokens);
                }
            }
            return totals;
        }

        WindowRequests.Results windows(ContextSource corpus, WindowRequests req, long nTokens) throws IOException {
            WindowRequests.Results windows = new WindowRequests.Results(nSaes);
            Broadcast<WindowRequests> b = jsc.broadcast(req);
            long done = 0;
            try (ContextSource.Pass pass = corpus.open()) {
                int first = 0;
                for (List<List<AtlasContext>> wave = wave(pass); !wave.isEmpty(); first += wave.size(), wave = wave(pass)) {
                    List<ShardRecord> todo = new ArrayList<>();
                    for (int k = 0; k < wave.size(); k++) {
                        // whole shards (their batches are cut from the whole shard), only those holding an example
                        boolean wanted = false;
                        for (AtlasContext c : wave.get(k)) {
                            wanted |= req.wants(c.id());
                            done += c.tokens().length;
                        }
                        if (wanted) todo.add(ShardRecord.of(first + k, wave.get(k)));
                    }
                    if (!todo.isEmpty()) {
                        jsc.setJobDescription("jlens atlas: example windows of shards " + todo.getFirst().shard() + ".." + todo.getLast().shard());
                        List<ShardTasks.WindowResult> results = new ArrayList<>(jsc.parallelize(todo, Math.min(partitions, todo.size()))
                                .mapPartitions(new ShardTasks.Windows(spec, b, nonce)).collect());
                        results.sort(Comparator.comparingInt(ShardTasks.WindowResult::shard));
                        for (ShardTasks.WindowResult r : results) {
                            agree(r.encoders(), r.reasons(), r.shard());
                            windows.putAll(r.windows());
                        }
                    }
                    progress.update("examples", done, nTokens);
                }
            } finally {
                b.destroy();
                deleteSpill(ShardTasks.spillDir(nonce)); // this process's spills (all of them in local mode)
            }
            return windows;
        }

        /** Every executor must have encoded with the same kernels: the second pass checks values bit for bit. */
        void agree(List<String> got, List<String> why, int shard) {
            if (encoders == null) {
                encoders = List.copyOf(got);
                reasons = List.copyOf(why);
            }
            else if (!encoders.equals(got)) {
                throw new IllegalStateException("executors chose different SAE encoders: " + encoders + ", and " + got + " for shard " + shard
                        + "; pass --encoder with one of them (vector, ggml or scalar)");
            }
        }
    }

    /** When every shard came from checkpoints, no executor reported its encoders: the ones this JVM picks. */
    private static void driverEncoders(Driver d, List<Sae> saes, AtlasSettings s) {
        List<String> l = new ArrayList<>(), why = new ArrayList<>();
        for (Sae sae : saes) {
            EncoderChoice c = EncoderChoice.of(sae, s.encoder().toString());
            try (SaeEncoder e = sae.encoder(s.encoder())) {
                l.add(e.kind());
                why.add(c.reasonFor(e.kind()));
            }
        }
        LOG.log(System.Logger.Level.INFO, "all shards came from checkpoints; recording the driver's encoders " + l);
        d.encoders = List.copyOf(l);
        d.reasons = List.copyOf(why);
    }

    /** A path that exists here, made absolute (executors resolve relative paths against their own directory). */
    static String executorPath(String p) {
        try {
            Path f = Path.of(p);
            return Files.exists(f) ? f.toAbsolutePath().normalize().toString() : p;
        } catch (java.nio.file.InvalidPathException e) {
            return p;
        }
    }

    private static List<String> executorSaes(List<String> ids) {
        return ids.stream().map(AtlasSparkJob::executorPath).toList();
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> w = Files.walk(dir)) {
            for (Path p : w.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    /**
     * spark-submit's entry point: the arguments of {@code jlens atlas} ({@code --model --sae --corpus --out ...});
     * the master comes from spark-submit unless {@code --spark} is given.
     */
    public static void main(String[] args) {
        List<String> a = new ArrayList<>();
        a.add("atlas");
        a.addAll(Arrays.asList(args));
        if (!a.contains("--spark") && a.stream().noneMatch(x -> x.startsWith("--spark="))) {
            a.add("--spark");
            a.add("default");
        }
        int rc = dev.jlens.cli.Main.run(a.toArray(String[]::new));
        if (rc != 0) System.exit(rc);
    }
}
