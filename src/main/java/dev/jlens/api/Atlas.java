package dev.jlens.api;

import dev.jlens.atlas.AtlasEngine;
import dev.jlens.atlas.AtlasSettings;
import dev.jlens.atlas.CorpusSource;
import dev.jlens.atlas.corpus.CorpusFormat;
import dev.jlens.atlas.corpus.CorpusSpec;
import dev.jlens.toy.ToyDefault;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The feature atlas: what each SAE feature means, from its behaviour over a corpus - density, activation
 * histogram, top-activating and quantile-sampled contexts with per-token activations, and the logit lens of its
 * decoder direction. One folder per SAE (features.jsonl, atlas.json, density.npy, max.npy; see docs/atlas.md).
 * Runs are checkpointed per corpus shard: rerun the same call after a crash or Ctrl-C and it resumes, finishing
 * with the same bytes. Not thread-safe per output folder (one run per folder at a time).
 */
public final class Atlas {
    private Atlas() {}

    /**
     * How to read the corpus and what to compute.
     *
     * @param layer         residual stream tap (the SAEs' hook layer): {@code blocks.L.hook_resid_post}
     * @param contextLength tokens per context, BOS included (128 as in SAEDashboard)
     * @param top           top-activating contexts per feature
     * @param maxTokens     stop before the context that would take the total over this (0 = whole corpus)
     * @param format        {@code auto} (JSONL by suffix, else one document per line), {@code lines},
     *                      {@code jsonl} or {@code whole-files}
     * @param textField     JSONL key holding the text
     * @param skipBad       skip and count bad documents (invalid UTF-8, binary, bad JSON) instead of failing
     * @param threads       CPU threads for the model (0 = all cores)
     * @param encoder       {@code AUTO}, {@code VECTOR}, {@code GGML} or {@code SCALAR} (the atlas runs on the CPU: {@code GGML_GPU} is refused)
     * @param batchTokens   tokens decoded together (at least contextLength); contexts are packed in order
     * @param shardContexts contexts per checkpoint: the unit of resume and of distribution
     */
    public record Options(int layer, int contextLength, int top, long maxTokens, String format, String textField, boolean skipBad,
                          int threads, EncoderKind encoder, int batchTokens, int shardContexts) {
        /**
         * Validates every value before any file is read: layer in [0, 1024], contextLength in [2, 8192], top in
         * [1, 1000], maxTokens and threads &gt;= 0 (at most 4096 threads), batchTokens in [contextLength, 65536],
         * shardContexts in [1, 2^20], a known format and a CPU encoder (IllegalArgumentException naming the option).
         */
        public Options {
            Objects.requireNonNull(format, "format");
            CorpusFormat.parse(format);
            if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0 (0 = all cores), got " + threads);
            settings(layer, contextLength, top, threads, encoder, batchTokens, shardContexts);
            if (maxTokens < 0) throw new IllegalArgumentException("--max-tokens must be >= 0 (0 = no cap), got " + maxTokens);
        }

        /**
         * The options {@code jlens atlas} uses without flags.
         *
         * @return layer 12, 128-token contexts, top 20, whole corpus, auto format, JSONL key {@code text}, bad documents
         *         fail the run, all cores, auto encoder, 512-token batches, 256-context shards
         */
        public static Options defaults() {
            return new Options(12, 128, 20, 0, "auto", "text", false, 0, EncoderKind.AUTO, 512, 256);
        }

        /**
         * A copy with {@link #maxTokens()} replaced.
         *
         * @param n the most corpus tokens to scan, BOS included, &gt;= 0; 0 scans the whole corpus
         * @return the new options
         * @throws IllegalArgumentException when {@code n} is negative
         */
        public Options withMaxTokens(long n) { return new Options(layer, contextLength, top, n, format, textField, skipBad, threads, encoder, batchTokens, shardContexts); }

        /**
         * A copy with {@link #layer()} replaced.
         *
         * @param l the 0-based layer to tap, in [0, 1024]; it must be the SAEs' hook layer and exist in the model
         * @return the new options
         * @throws IllegalArgumentException when {@code l} is out of range
         */
        public Options withLayer(int l) { return new Options(l, contextLength, top, maxTokens, format, textField, skipBad, threads, encoder, batchTokens, shardContexts); }

        /**
         * A copy with {@link #threads()} replaced.
         *
         * @param n CPU threads for the model and the encoder, in [0, 4096]; 0 = one per available processor
         * @return the new options
         * @throws IllegalArgumentException when {@code n} is out of range
         */
        public Options withThreads(int n) { return new Options(layer, contextLength, top, maxTokens, format, textField, skipBad, n, encoder, batchTokens, shardContexts); }

        /**
         * A copy with {@link #encoder()} replaced.
         *
         * @param e {@link EncoderKind#AUTO}, {@link EncoderKind#VECTOR}, {@link EncoderKind#GGML} or
         *          {@link EncoderKind#SCALAR}
         * @return the new options
         * @throws IllegalArgumentException for {@link EncoderKind#GGML_GPU} (the atlas runs on the CPU)
         * @throws NullPointerException when {@code e} is null
         */
        public Options withEncoder(EncoderKind e) { return new Options(layer, contextLength, top, maxTokens, format, textField, skipBad, threads, e, batchTokens, shardContexts); }

        /**
         * A copy with {@link #batchTokens()} and {@link #shardContexts()} replaced. Neither changes the atlas's bytes:
         * batches are packed per shard, and shards merge in order.
         *
         * @param batch tokens decoded together, in [{@link #contextLength()}, 65536]
         * @param shard contexts per checkpointed shard, in [1, 2^20]: the unit of resume and of distribution
         * @return the new options
         * @throws IllegalArgumentException when a value is out of range
         */
        public Options withBatching(int batch, int shard) { return new Options(layer, contextLength, top, maxTokens, format, textField, skipBad, threads, encoder, batch, shard); }

        AtlasSettings settings() { return settings(layer, contextLength, top, threads, encoder, batchTokens, shardContexts); }

        private static AtlasSettings settings(int layer, int contextLength, int top, int threads, EncoderKind encoder, int batch, int shard) {
            int t = threads == 0 ? Runtime.getRuntime().availableProcessors() : threads;
            AtlasSettings d = AtlasSettings.defaults(layer, t);
            return new AtlasSettings(layer, contextLength, batch, shard, top, d.quantileIntervals(), d.quantileExamples(), d.sampleSize(),
                    d.windowBefore(), d.windowAfter(), d.logitTokens(), t, encoder);
        }

        CorpusSpec corpus(String inputs) {
            return new CorpusSpec(inputs, CorpusFormat.parse(format), textField, skipBad, contextLength, maxTokens);
        }
    }

    /**
     * What a run did.
     *
     * @param folders         one atlas folder per SAE, in the order given
     * @param contexts        contexts scanned
     * @param tokens          tokens scanned, BOS included
     * @param shardsComputed  shards computed by this call
     * @param shardsReused    shards found complete from an interrupted earlier call
     * @param exampleContexts contexts decoded again for the example windows
     * @param encoders        the encoder each SAE ran with
     */
    public record Summary(List<Path> folders, long contexts, long tokens, int shardsComputed, int shardsReused,
                          long exampleContexts, List<String> encoders) {}

    /**
     * Builds the atlas of every SAE in {@code saes} (paths or registry ids; each must be trained on
     * {@code options.layer()}) over the corpus {@code corpus} (a file, folder or glob) into {@code out}: the folder
     * itself for one SAE, a subfolder per SAE for several. Everything is validated, the whole corpus included,
     * before the first forward pass.
     *
     * @param model    a gemma2 GGUF file with a BOS token
     * @param saes     SAEs as paths (Gemma Scope {@code params.npz} or SAELens directory) or registry ids, at least one;
     *                 each must read {@code d_model}-wide rows of {@code options.layer()}
     * @param corpus   a text file, a folder or a glob of files, read as {@code options.format()} says
     * @param out      the output folder, created when missing; it also holds the run's checkpoints
     *                 ({@code .atlas-work/}) until the run finishes, so a rerun resumes from them
     * @param options  what to read and compute
     * @param progress stages {@code "scan"} and {@code "examples"}, counted in corpus tokens, or null for none
     * @return the folders written, what was scanned and which encoder each SAE ran with
     * @throws IllegalArgumentException (bad input) when the model, an SAE, the layer or the corpus is unusable (an SAE
     *                                  of another layer or width, a corpus with no text, {@code out} a file...), or
     *                                  another run holds {@code out}
     * @throws IOException when a file is missing, malformed or cannot be read or written
     * @throws NullPointerException when {@code model}, {@code out} or {@code options} is null
     */
    public static Summary run(Path model, List<String> saes, String corpus, Path out, Options options, ProgressListener progress) throws IOException {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(options, "options");
        ProgressListener p = progress == null ? ProgressListener.NONE : progress;
        CorpusSpec spec = options.corpus(corpus);
        AtlasEngine.Job job = new AtlasEngine.Job(model, saes, options.settings(), out);
        AtlasEngine.Result r = AtlasEngine.run(job,
                m -> new CorpusSource(spec, CorpusSource.tokenizer(m.vocab()), m.vocab().bos(), out.resolve(".atlas-work")), p::update);
        return new Summary(r.folders(), r.contexts(), r.tokens(), r.shardsComputed(), r.shardsReused(), r.windowContexts(), r.encoders());
    }

    /** The Spark job's class, in the separate jlens-spark module (the core never links against Spark). */
    private static final String SPARK_JOB = "dev.jlens.spark.AtlasSparkJob";

    /**
     * Checks, before any file is read, that the Spark job can run here: the jlens-spark module and Apache Spark are on
     * the class path.
     *
     * @throws IllegalArgumentException when they are not, saying how to get them
     */
    public static void requireSpark() {
        sparkJob();
    }

    private static java.lang.reflect.Method sparkJob() {
        try {
            return Class.forName(SPARK_JOB).getMethod("run", String.class, int.class, int.class, AtlasEngine.Job.class, CorpusSpec.class,
                    dev.jlens.util.Progress.class);
        } catch (ClassNotFoundException | NoSuchMethodException | LinkageError e) {
            throw new IllegalArgumentException("--spark needs the jlens-spark module and Apache Spark on the class path (" + e
                    + "): run scripts/jlens-spark instead of scripts/jlens, or spark-submit --class " + SPARK_JOB + " jlens-spark.jar");
        }
    }

    /**
     * As {@link #run}, as an Apache Spark job on {@code master} ({@code local[N]} in this process, a cluster URL, or
     * {@code default} for the master of the Spark configuration, as under spark-submit): the shards of the corpus are
     * computed on Spark's executors and merged in shard order, so the folders hold the same bytes as an embedded
     * run, plus features.parquet and examples.parquet per SAE. Needs the jlens-spark module and Spark on the class
     * path (scripts/jlens-spark); without them it fails with an IllegalArgumentException saying so.
     *
     * @param master     {@code local[N]}, a cluster URL, or {@code default}
     * @param partitions Spark partitions per pass, &gt;= 0 (0 = Spark's default parallelism)
     * @param model      as {@link #run}; every executor loads it, so it must be readable at this path there
     * @param saes       as {@link #run}; every executor loads them, so the same holds
     * @param corpus     as {@link #run}, read by the driver
     * @param out        as {@link #run}, written by the driver
     * @param options    as {@link #run}; its threads are the model threads of one Spark task (0 = {@code spark.task.cpus})
     * @param progress   as {@link #run}
     * @return as {@link #run}
     * @throws IllegalArgumentException as {@link #run}, when {@code partitions} is negative, and when Spark or the
     *                                  jlens-spark module is missing
     * @throws IOException as {@link #run}
     * @throws NullPointerException when {@code master}, {@code model}, {@code out} or {@code options} is null
     */
    public static Summary runOnSpark(String master, int partitions, Path model, List<String> saes, String corpus, Path out,
                                     Options options, ProgressListener progress) throws IOException {
        Objects.requireNonNull(master, "master");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(options, "options");
        if (partitions < 0) throw new IllegalArgumentException("--spark-partitions must be >= 0 (0 = Spark's default parallelism), got " + partitions);
        ProgressListener p = progress == null ? ProgressListener.NONE : progress;
        CorpusSpec spec = options.corpus(corpus);
        AtlasEngine.Job job = new AtlasEngine.Job(model, saes, options.settings(), out);
        java.lang.reflect.Method run = sparkJob();
        AtlasEngine.Result r;
        try {
            r = (AtlasEngine.Result) run.invoke(null, master, partitions, options.threads(), job, spec, (dev.jlens.util.Progress) p::update);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof IOException io) throw io;
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
        return new Summary(r.folders(), r.contexts(), r.tokens(), r.shardsComputed(), r.shardsReused(), r.windowContexts(), r.encoders());
    }

    /**
     * What a Neuronpedia export wrote.
     *
     * @param batches  the {@code batch-N.json} files, in order
     * @param features features exported
     * @param skipped  features that never fired (listed in {@code skipped_indexes.json})
     */
    public record NeuronpediaBatches(List<Path> batches, int features, int skipped) {}

    /**
     * Writes an atlas folder (one SAE's) as the batch JSON files SAEDashboard produces for Neuronpedia's importer
     * into {@code out} (field mapping and approximations: docs/atlas-browser.md).
     *
     * @param atlasFolder one SAE's atlas folder, as {@link #run} writes it
     * @param out         the folder for {@code batch-0.json}, {@code batch-1.json}... (128 features each, ascending
     *                    ids) and {@code skipped_indexes.json}
     * @return the batch files, the features exported and the features skipped
     * @throws IOException when the atlas folder is missing, does not follow the atlas format (an
     *                     {@link dev.jlens.errors.InvalidFileException} naming file, line and field), or a file cannot
     *                     be written
     * @throws NullPointerException when an argument is null
     */
    public static NeuronpediaBatches exportNeuronpedia(Path atlasFolder, Path out) throws IOException {
        Objects.requireNonNull(atlasFolder, "atlasFolder");
        Objects.requireNonNull(out, "out");
        var w = dev.jlens.atlas.browser.NeuronpediaExport.write(atlasFolder, out);
        return new NeuronpediaBatches(w.batches(), w.features(), w.skipped());
    }

    /**
     * The toy default: the planted France model, its coarse and fine SAEs, and a corpus of the shipped prompts.
     *
     * @param model  the planted France GGUF
     * @param saes   the coarse and fine SAEs' registry ids, in that order
     * @param corpus every shipped prompt (France, neutral, distractor sets, in that order), one document per line
     */
    public record Toy(Path model, List<String> saes, Path corpus) {}

    /**
     * The toy default, generated on first use (as {@link Toys#plantedFrance(boolean, PrintWriter)}), with its corpus.
     *
     * @param log gets a line before the files are generated, or null for none
     * @return the model, SAEs and corpus for {@link #run}
     * @throws IOException when the files cannot be written or read
     */
    public static Toy toy(PrintWriter log) throws IOException {
        ToyDefault.Files f = ToyDefault.ensure(true, log);
        return new Toy(f.model(), List.of(f.coarseId(), f.fineId()), ToyDefault.atlasCorpus(f));
    }
}
