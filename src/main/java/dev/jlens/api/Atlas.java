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
        public Options {
            Objects.requireNonNull(format, "format");
            CorpusFormat.parse(format);
            if (threads < 0) throw new IllegalArgumentException("--threads must be >= 0 (0 = all cores), got " + threads);
            settings(layer, contextLength, top, threads, encoder, batchTokens, shardContexts);
            if (maxTokens < 0) throw new IllegalArgumentException("--max-tokens must be >= 0 (0 = no cap), got " + maxTokens);
        }

        /** Layer 12, 128-token contexts, top 20, whole corpus, auto format, all cores, auto encoder, 512-token batches, 256-context shards. */
        public static Options defaults() {
            return new Options(12, 128, 20, 0, "auto", "text", false, 0, EncoderKind.AUTO, 512, 256);
        }

        public Options withMaxTokens(long n) { return new Options(layer, contextLength, top, n, format, textField, skipBad, threads, encoder, batchTokens, shardContexts); }
        public Options withLayer(int l) { return new Options(l, contextLength, top, maxTokens, format, textField, skipBad, threads, encoder, batchTokens, shardContexts); }
        public Options withThreads(int n) { return new Options(layer, contextLength, top, maxTokens, format, textField, skipBad, n, encoder, batchTokens, shardContexts); }
        public Options withEncoder(EncoderKind e) { return new Options(layer, contextLength, top, maxTokens, format, textField, skipBad, threads, e, batchTokens, shardContexts); }
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
     * @param partitions Spark partitions per pass (0 = Spark's default parallelism)
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
     */
    public static NeuronpediaBatches exportNeuronpedia(Path atlasFolder, Path out) throws IOException {
        Objects.requireNonNull(atlasFolder, "atlasFolder");
        Objects.requireNonNull(out, "out");
        var w = dev.jlens.atlas.browser.NeuronpediaExport.write(atlasFolder, out);
        return new NeuronpediaBatches(w.batches(), w.features(), w.skipped());
    }

    /** The toy default: the planted France model, its coarse and fine SAEs, and a corpus of the shipped prompts. */
    public record Toy(Path model, List<String> saes, Path corpus) {}

    /** The toy default, generated on first use (a line goes to {@code log}, which may be null). */
    public static Toy toy(PrintWriter log) throws IOException {
        ToyDefault.Files f = ToyDefault.ensure(true, log);
        return new Toy(f.model(), List.of(f.coarseId(), f.fineId()), ToyDefault.atlasCorpus(f));
    }
}
