package dev.jlens.api;

import dev.jlens.analysis.CrossResolutionMap;
import dev.jlens.activations.CaptureFolders;
import dev.jlens.study.ConceptExperiment;
import dev.jlens.study.ExperimentConfig;
import dev.jlens.study.ExperimentResult;
import dev.jlens.util.Json;
import dev.jlens.study.ReportWriter;
import dev.jlens.study.RunFolders;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The concept experiment (the France feature-mapping study by default) and its stages: capture the residual stream
 * after a layer for target (concept) and control (neutral) prompts, encode it with a coarse and a fine SAE,
 * aggregate per prompt over non-BOS tokens, contrast statistics per feature (selectivity, AUROC, Mann-Whitney p,
 * Benjamini-Hochberg q, effect size, permutation p as a check), the cross-resolution map between the top coarse
 * features (anchors) and the top fine features (activation correlation + decoder cosine), the GO/NO-GO verdict, and
 * the outputs in one folder:
 * {@code results.json}, {@code features_coarse.csv}, {@code features_fine.csv} (every active feature, its rankings as
 * columns), {@code prompts.csv} and {@code prompt_features_coarse.npz} / {@code prompt_features_fine.npz} (the prompt x
 * feature matrices, scipy CSR), {@code pairs.csv}, {@code facet_split.csv}, {@code report.html}, {@code heatmap.png},
 * {@code scatter.png}; docs/outputs.md describes each.
 *
 * <p>Activations and per-prompt aggregates are cached by content hash under {@link Settings#cacheDir()}: a run
 * interrupted at any point resumes, and a repeated run re-computes nothing and writes byte-identical outputs. Memory
 * stays bounded by one batch of activations plus the sparse per-prompt aggregates.
 *
 * <p>Threads: every method loads and closes its own model, SAEs and encoders and may run on any thread; two runs
 * writing the same output folder at the same time are not supported. SAE arguments are a {@code params.npz}, a
 * SAELens directory or a registry id such as {@code gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82}, as
 * {@link SparseAutoencoder#load(String, EncoderKind)} takes them. Bad input throws an exception for which
 * {@link Failures#isBadInput} is true.
 */
public final class Experiment {
    private Experiment() {}

    /** How a prompt's token activations become one value per feature; BOS tokens never count. */
    public enum Aggregate {
        /** the largest activation over the prompt's tokens */
        MAX,
        /** the mean over the prompt's tokens */
        MEAN,
        /** the activation at the prompt's last token */
        LAST;

        /**
         * Reads an aggregate's name, as the command line and results.json spell it.
         *
         * @param s {@code max}, {@code mean} or {@code last}, any case, surrounding whitespace ignored
         * @return the aggregate of that name
         * @throws IllegalArgumentException when {@code s} is null or another word
         */
        public static Aggregate parse(String s) {
            for (Aggregate a : values()) if (a.name().equalsIgnoreCase(s == null ? "" : s.strip())) return a;
            throw new IllegalArgumentException("unknown aggregate '" + s + "': expected max, mean or last");
        }
    }

    /**
     * Everything that defines a run besides the model, the SAEs and the output folder. Validated on construction with
     * the experiment's own rules (IllegalArgumentException naming the value). Immutable.
     *
     * @param targetPrompts   target (concept) prompt file, {@code .jsonl} with facets or {@code .txt}; null for the
     *                        shipped France set (200 prompts, 8 facets)
     * @param controlPrompts  control (neutral) prompt file; null for the shipped neutral set (200 prompts)
     * @param layer           the layer whose output is captured ({@code blocks.layer.hook_resid_post}); the SAEs' hook layer
     * @param aggregate       per-prompt aggregate over non-BOS tokens
     * @param anchors         how many top coarse features (by selectivity) become anchors of the map, >= 1
     * @param fineCandidates  how many top fine features are mapped against the anchors, >= 1
     * @param minActivation   minimum mean activation on the target prompts for a feature to be ranked by selectivity, >= 0
     * @param minCosine       decoder cosine a fine feature needs to match an anchor, in [-1, 1)
     * @param minCorrelation  activation correlation (Pearson, over prompts) a fine feature needs to match, in [-1, 1)
     * @param minSubFeatures  fine matches the best anchor needs for GO, >= 1
     * @param permutations    label permutations per feature for the permutation check of the p-values, >= 1
     * @param seed            seed of the permutations
     * @param encoder         SAE encoder (see {@link EncoderKind})
     * @param contextTokens   context size in tokens = the most tokens per capture batch, >= 16; longer prompts are rejected
     * @param promptsPerBatch the most prompts per capture batch, in [1, 256]
     * @param threads         CPU threads for capture and encode, >= 1
     * @param gpuCapture      capture with blocks 0..layer on the GPU (needs a llama.cpp build with a GPU device); its
     *                        activations are cached apart from CPU ones
     * @param fastKv          capture with llama.cpp's f16 K/V cache ({@code --fast-kv}): half the cache memory, ~2e-3 instead
     *                        of ~4e-5 row error at layer 12 against an f32 forward pass; false (the default) keeps K/V in f32
     *                        with flash attention off. Recorded in results.json; its activations are cached apart
     * @param cacheDir        folder of the activation and aggregate caches, shared between runs
     */
    public record Settings(Path targetPrompts, Path controlPrompts, int layer, Aggregate aggregate, int anchors, int fineCandidates,
                           double minActivation, double minCosine, double minCorrelation, int minSubFeatures, int permutations,
                           long seed, EncoderKind encoder, int contextTokens, int promptsPerBatch, int threads, boolean gpuCapture,
                           boolean fastKv, Path cacheDir) {
        /** Validates the settings (IllegalArgumentException or NullPointerException naming the bad value). */
        public Settings {
            Objects.requireNonNull(aggregate, "aggregate");
            Objects.requireNonNull(encoder, "encoder");
            Objects.requireNonNull(cacheDir, "cacheDir");
            if (layer < 0) throw new IllegalArgumentException("layer must be >= 0, got " + layer);
            if (anchors < 1) throw new IllegalArgumentException("anchors must be >= 1, got " + anchors);
            if (fineCandidates < 1) throw new IllegalArgumentException("fineCandidates must be >= 1, got " + fineCandidates);
            if (!(minActivation >= 0)) throw new IllegalArgumentException("minActivation must be >= 0, got " + minActivation);
            new CrossResolutionMap.Thresholds(minCosine, minCorrelation, minSubFeatures); // its own range checks
            if (permutations < 1) throw new IllegalArgumentException("permutations must be >= 1, got " + permutations);
            if (contextTokens < 16) throw new IllegalArgumentException("context must be >= 16 tokens, got " + contextTokens);
            if (promptsPerBatch < 1 || promptsPerBatch > 256) {
                throw new IllegalArgumentException("prompts per batch must be in [1, 256], got " + promptsPerBatch);
            }
            if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }

        /**
         * The defaults of {@code jlens france}: shipped France and neutral sets, layer 12, max aggregate, 10 anchors,
         * 100 fine candidates, min activation 0.5, cosine 0.3, correlation 0.5, 3 sub-features, 1000 permutations,
         * seed 1234, auto encoder, 2048-token context, 64 prompts per batch, all cores, CPU capture, f32 K/V cache, cache
         * {@code runs/cache} (relative to the working directory).
         *
         * @return the default settings, one thread per available processor
         */
        public static Settings defaults() {
            return new Settings(null, null, 12, Aggregate.MAX, 10, 100, 0.5, 0.3, 0.5, 3, 1000, 1234, EncoderKind.AUTO, 2048, 64,
                    Runtime.getRuntime().availableProcessors(), false, false, Path.of("runs", "cache"));
        }

        /**
         * A builder starting from {@link #defaults()}.
         *
         * @return a new builder
         */
        public static Builder builder() { return defaults().toBuilder(); }

        /**
         * A builder starting from these settings.
         *
         * @return a new builder holding these values
         */
        public Builder toBuilder() { return new Builder(this); }

        ExperimentConfig config(Path model, String coarseSae, String fineSae, Path outDir) {
            return new ExperimentConfig(model, coarseSae, fineSae, outDir, this);
        }

        /**
         * Mutable, single-thread builder of {@link Settings}: each setter sets the component of the same name (see
         * {@link Settings} for meanings and ranges); nothing is checked until {@link #build()}.
         */
        public static final class Builder {
            private Path targetPrompts, controlPrompts, cacheDir;
            private int layer, anchors, fineCandidates, minSubFeatures, permutations, contextTokens, promptsPerBatch, threads;
            private Aggregate aggregate;
            private double minActivation, minCosine, minCorrelation;
            private long seed;
            private EncoderKind encoder;
            private boolean gpuCapture, fastKv;

            private Builder(Settings s) {
                targetPrompts = s.targetPrompts; controlPrompts = s.controlPrompts; layer = s.layer; aggregate = s.aggregate;
                anchors = s.anchors; fineCandidates = s.fineCandidates; minActivation = s.minActivation; minCosine = s.minCosine;
                minCorrelation = s.minCorrelation; minSubFeatures = s.minSubFeatures; permutations = s.permutations; seed = s.seed;
                encoder = s.encoder; contextTokens = s.contextTokens; promptsPerBatch = s.promptsPerBatch; threads = s.threads;
                gpuCapture = s.gpuCapture; fastKv = s.fastKv; cacheDir = s.cacheDir;
            }

            /**
             * Sets {@link Settings#targetPrompts()}.
             *
             * @param p the target prompt file ({@code .jsonl} with facets, or {@code .txt}); null for the shipped France set
             * @return this builder
             */
            public Builder targetPrompts(Path p) { targetPrompts = p; return this; }

            /**
             * Sets {@link Settings#controlPrompts()}.
             *
             * @param p the control prompt file; null for the shipped neutral set
             * @return this builder
             */
            public Builder controlPrompts(Path p) { controlPrompts = p; return this; }

            /**
             * Sets {@link Settings#layer()}.
             *
             * @param l the 0-based layer to capture, &gt;= 0; it must be the SAEs' hook layer and exist in the model
             * @return this builder
             */
            public Builder layer(int l) { layer = l; return this; }

            /**
             * Sets {@link Settings#aggregate()}.
             *
             * @param a how a prompt's token activations become one value per feature, not null
             * @return this builder
             */
            public Builder aggregate(Aggregate a) { aggregate = a; return this; }

            /**
             * Sets {@link Settings#anchors()}.
             *
             * @param n how many top coarse features become anchors, &gt;= 1
             * @return this builder
             */
            public Builder anchors(int n) { anchors = n; return this; }

            /**
             * Sets {@link Settings#fineCandidates()}.
             *
             * @param n how many top fine features are mapped against the anchors, &gt;= 1
             * @return this builder
             */
            public Builder fineCandidates(int n) { fineCandidates = n; return this; }

            /**
             * Sets {@link Settings#minActivation()}.
             *
             * @param v the mean target activation a feature needs to be ranked by selectivity, &gt;= 0
             * @return this builder
             */
            public Builder minActivation(double v) { minActivation = v; return this; }

            /**
             * Sets {@link Settings#minCosine()}.
             *
             * @param v the decoder cosine a match must exceed, in [-1, 1)
             * @return this builder
             */
            public Builder minCosine(double v) { minCosine = v; return this; }

            /**
             * Sets {@link Settings#minCorrelation()}.
             *
             * @param v the per-prompt activation correlation a match must exceed, in [-1, 1)
             * @return this builder
             */
            public Builder minCorrelation(double v) { minCorrelation = v; return this; }

            /**
             * Sets {@link Settings#minSubFeatures()}.
             *
             * @param n the fine matches the best anchor needs for GO, &gt;= 1
             * @return this builder
             */
            public Builder minSubFeatures(int n) { minSubFeatures = n; return this; }

            /**
             * Sets {@link Settings#permutations()}.
             *
             * @param n label permutations per feature for the permutation check, &gt;= 1
             * @return this builder
             */
            public Builder permutations(int n) { permutations = n; return this; }

            /**
             * Sets {@link Settings#seed()}.
             *
             * @param s seed of the permutations, any value
             * @return this builder
             */
            public Builder seed(long s) { seed = s; return this; }

            /**
             * Sets {@link Settings#encoder()}.
             *
             * @param e the SAE encoder, not null
             * @return this builder
             */
            public Builder encoder(EncoderKind e) { encoder = e; return this; }

            /**
             * Sets {@link Settings#contextTokens()}.
             *
             * @param n context size in tokens, &gt;= 16: the most tokens per capture batch
             * @return this builder
             */
            public Builder contextTokens(int n) { contextTokens = n; return this; }

            /**
             * Sets {@link Settings#promptsPerBatch()}.
             *
             * @param n the most prompts per capture batch, in [1, 256]
             * @return this builder
             */
            public Builder promptsPerBatch(int n) { promptsPerBatch = n; return this; }

            /**
             * Sets {@link Settings#threads()}.
             *
             * @param n CPU threads for capture and encode, &gt;= 1
             * @return this builder
             */
            public Builder threads(int n) { threads = n; return this; }

            /**
             * Sets {@link Settings#gpuCapture()}.
             *
             * @param b true to capture with blocks 0..layer on the GPU (the run then needs a GPU device)
             * @return this builder
             */
            public Builder gpuCapture(boolean b) { gpuCapture = b; return this; }

            /**
             * Sets {@link Settings#fastKv()}.
             *
             * @param b true for llama.cpp's f16 K/V cache in capture, false for the f32 reference numerics
             * @return this builder
             */
            public Builder fastKv(boolean b) { fastKv = b; return this; }

            /**
             * Sets {@link Settings#cacheDir()}.
             *
             * @param d the folder of the activation and aggregate caches, not null; created when missing
             * @return this builder
             */
            public Builder cacheDir(Path d) { cacheDir = d; return this; }

            /**
             * Builds the settings; the builder can be changed and built again afterwards.
             *
             * @return the validated settings
             * @throws IllegalArgumentException naming the value that is out of its range
             * @throws NullPointerException naming a missing value (aggregate, encoder, cacheDir)
             */
            public Settings build() {
                return new Settings(targetPrompts, controlPrompts, layer, aggregate, anchors, fineCandidates, minActivation, minCosine,
                        minCorrelation, minSubFeatures, permutations, seed, encoder, contextTokens, promptsPerBatch, threads, gpuCapture,
                        fastKv, cacheDir);
            }
        }
    }

    /**
     * What an experiment found: the content of its {@code results.json}, deterministic for a given configuration (no
     * timings or dates). Immutable, on the heap; safe to share between threads.
     */
    public static final class Results {
        private final ExperimentResult r;

        Results(ExperimentResult r) { this.r = Objects.requireNonNull(r, "r"); }

        /**
         * Reads a {@code results.json} written by {@link #run} or {@link #crossmap} (snake_case keys,
         * {@code "format": "jlens-results/2"}; docs/schema/results.schema.json). A file of an older jlens (camelCase, no
         * format field) throws an exception for which {@link Failures#isBadInput} is true, naming the file and "format".
         *
         * @param resultsJson a {@code results.json} file
         * @return its content
         * @throws IOException when the file is missing, cannot be read or is not a results.json of this format
         */
        public static Results read(Path resultsJson) throws IOException {
            return new Results(Json.readFile(resultsJson, Json.RESULTS_FORMAT, ExperimentResult.class));
        }

        /**
         * The GO/NO-GO verdict.
         *
         * @return the verdict, as results.json records it
         */
        public Verdict verdict() { return r.verdict(); }

        /**
         * The model file the activations came from.
         *
         * @return the path as results.json records it (as given to the run, or as the capture folders record it), which
         *         may not exist on this machine
         */
        public Path model() { return Path.of(r.config().model()); }

        /**
         * The layer analysed.
         *
         * @return the 0-based layer whose output was captured
         */
        public int layer() { return r.config().layer(); }

        /**
         * Whether the activations were captured with an f16 K/V cache ({@link Settings#fastKv()}); false for the f32 default,
         * and for a results.json written before the numerics were recorded.
         *
         * @return true when the K/V cache was f16
         */
        public boolean fastKv() {
            var n = r.config().numerics();
            return n != null && "f16".equals(n.kvCacheType());
        }

        /**
         * The coarse SAE.
         *
         * @return the registry id or path as given to the run
         */
        public String coarseSae() { return r.config().coarseSae().id(); }

        /**
         * The fine SAE.
         *
         * @return the registry id or path as given to the run
         */
        public String fineSae() { return r.config().fineSae().id(); }

        /**
         * (Re)writes {@code report.html} (self-contained), {@code heatmap.png} and {@code scatter.png} into {@code dir}
         * (created if missing) and returns the report's path.
         *
         * @param dir the folder to write into, usually the run's output folder
         * @return {@code dir/report.html}
         * @throws IOException when a file cannot be written
         */
        public Path writeReport(Path dir) throws IOException {
            ReportWriter.write(dir, r);
            return dir.resolve("report.html");
        }

        ExperimentResult internal() { return r; }
    }

    /**
     * What a run produced.
     *
     * @param results        what it found
     * @param outDir         the output folder
     * @param report         {@code report.html} in it
     * @param resultsJson    {@code results.json} in it
     * @param stageSeconds   wall seconds per stage in running order ({@code hash}, {@code capture}, {@code encode_coarse},
     *                       {@code encode_fine}, {@code contrast}, {@code crossmap}, {@code outputs}; the analysis of capture
     *                       folders has no {@code hash} and {@code capture}); unmodifiable
     * @param shardsComputed capture batches computed by this run (0 when all came from the cache)
     */
    public record Outcome(Results results, Path outDir, Path report, Path resultsJson, Map<String, Double> stageSeconds, int shardsComputed) {
        /** Copies {@code stageSeconds}, keeping its order. */
        public Outcome {
            Objects.requireNonNull(results, "results");
            stageSeconds = Collections.unmodifiableMap(new LinkedHashMap<>(stageSeconds));
        }

        /**
         * The verdict, as {@code results().verdict()}.
         *
         * @return the GO/NO-GO verdict of the run
         */
        public Verdict verdict() { return results.verdict(); }
    }

    /**
     * Activations captured before, as two {@link CaptureFolder}s: one of the target prompts, one of the control
     * prompts, from the same model and layer.
     *
     * @param targetDir      capture folder of the target prompts
     * @param controlDir     capture folder of the control prompts
     * @param targetPrompts  the target prompt file, for texts and facets (same prompts in the same order); null to take
     *                       texts from {@code tokens.csv} (no facets)
     * @param controlPrompts the control prompt file, or null
     */
    public record Captures(Path targetDir, Path controlDir, Path targetPrompts, Path controlPrompts) {
        /** Checks that both folders are given. */
        public Captures {
            Objects.requireNonNull(targetDir, "targetDir");
            Objects.requireNonNull(controlDir, "controlDir");
        }
    }

    /**
     * The contrast stage of one SAE.
     *
     * @param activeFeatures    features active on at least one prompt
     * @param activations       non-zero (prompt, feature) aggregates
     * @param topBySelectivity  the top features by selectivity among those whose mean target activation reaches
     *                          {@link Settings#minActivation()}, best first, at most {@link Settings#fineCandidates()};
     *                          unmodifiable
     * @param topByEffectSize   as many top features by effect size, best first; unmodifiable
     * @param json              {@code contrast.json} written
     * @param csv               {@code features.csv} written
     */
    public record Contrast(int activeFeatures, long activations, List<FeatureStats> topBySelectivity, List<FeatureStats> topByEffectSize,
                           Path json, Path csv) {
        /** Copies the lists. */
        public Contrast {
            topBySelectivity = List.copyOf(topBySelectivity);
            topByEffectSize = List.copyOf(topByEffectSize);
        }
    }

    /**
     * The whole experiment: capture (cached), encode with both SAEs (cached), contrast, cross-resolution map, verdict,
     * outputs into {@code outDir} (created if missing). {@code progress} (may be null) reports each stage.
     *
     * @param model     a gemma2 GGUF file
     * @param coarseSae the coarse SAE: a {@code params.npz}, a SAELens directory or a registry id, hooked at
     *                  {@code settings.layer()} with {@code d_in} = the model's d_model
     * @param fineSae   the fine SAE, as {@code coarseSae}
     * @param outDir    the output folder, created when missing; its outputs are replaced, and another run into it at
     *                  the same time is refused
     * @param settings  the prompts, thresholds and numerics of the run
     * @param progress  stages {@code "capture"} (prompts), {@code "encode coarse"} and {@code "encode fine"} (cached
     *                  batches), or null for none
     * @return the results, the files written and the time per stage
     * @throws IllegalArgumentException (bad input) when the model, an SAE, the layer or a prompt does not fit, or another
     *                                  run holds {@code outDir}
     * @throws IOException when a file is missing, malformed or cannot be read or written
     * @throws NullPointerException when {@code settings} is null
     */
    public static Outcome run(Path model, String coarseSae, String fineSae, Path outDir, Settings settings, ProgressListener progress)
            throws IOException {
        Objects.requireNonNull(settings, "settings");
        return outcome(ConceptExperiment.run(settings.config(model, coarseSae, fineSae, outDir), Bridge.progress(progress)));
    }

    /**
     * The default output folder of a run: {@code root/<name>-<12 hex digits>}, where the digits hash the model file's
     * content and path, the SAEs and every setting that changes results, so the same configuration always lands in
     * the same folder. Hashing reads the model file once (the hash is cached under the settings' cache folder).
     *
     * @param root      the folder that holds run folders, e.g. {@code runs}
     * @param name      the run folder's prefix, e.g. {@code france}
     * @param model     the model file, as {@link #run} takes it
     * @param coarseSae the coarse SAE, as {@link #run} takes it
     * @param fineSae   the fine SAE, as {@link #run} takes it
     * @param settings  the run's settings
     * @return {@code root/<name>-<12 hex digits>}; the folder itself is not created
     * @throws IOException when the model file cannot be read
     * @throws NullPointerException when {@code settings} is null
     */
    public static Path runFolder(Path root, String name, Path model, String coarseSae, String fineSae, Settings settings) throws IOException {
        Objects.requireNonNull(settings, "settings");
        return RunFolders.forConfig(root, name, settings.config(model, coarseSae, fineSae, Path.of(".")));
    }

    /**
     * The contrast stage alone on capture folders, for one SAE: per-feature statistics of every active feature,
     * written to {@code outDir/contrast.json} and {@code outDir/features.csv} (with {@code prompts.csv} and
     * {@code prompt_features.npz}, the prompt x feature matrix in scipy's CSR layout). Uses the settings' aggregate,
     * permutations, seed, minimum activation, {@code fineCandidates} (how many top features are listed), encoder,
     * threads and cache folder.
     *
     * @param captures the target and control capture folders, of one model (same d_model, BOS and numerics)
     * @param sae      the SAE, as {@link #run} takes it, hooked at {@code settings.layer()}
     * @param outDir   the output folder, created when missing; another run into it at the same time is refused
     * @param settings the run's settings (those named above, and the layer the SAE is checked against)
     * @param progress stage {@code "encode sae"} (cached batches), or null for none
     * @return the active feature count, the top features and the files written
     * @throws IllegalArgumentException (bad input) when the SAE does not fit the captures or the layer, or another run
     *                                  holds {@code outDir}
     * @throws IOException when a capture folder or prompt file is missing or malformed, or a file cannot be written
     * @throws NullPointerException when {@code captures} or {@code settings} is null
     */
    public static Contrast contrast(Captures captures, String sae, Path outDir, Settings settings, ProgressListener progress)
            throws IOException {
        Objects.requireNonNull(captures, "captures");
        Objects.requireNonNull(settings, "settings");
        ExperimentConfig cfg = settings.config(captures.targetDir(), sae, sae, outDir);
        var r = ConceptExperiment.contrastOnly(cfg, open(captures, cfg), sae, Bridge.progress(progress));
        return new Contrast(r.activeFeatures(), r.activations(), r.topBySelectivity(), r.topByEffectSize(),
                outDir.resolve("contrast.json"), outDir.resolve("features.csv"));
    }

    /**
     * Every stage after capture on capture folders: encode with both SAEs, contrast, cross-resolution map, verdict and
     * the same outputs as {@link #run} into {@code outDir}.
     *
     * @param captures  the target and control capture folders, of one model (same d_model, BOS and numerics)
     * @param coarseSae the coarse SAE, as {@link #run} takes it
     * @param fineSae   the fine SAE, as {@link #run} takes it
     * @param outDir    the output folder, as {@link #run}
     * @param settings  the run's settings; its layer is the SAEs' hook layer and is what results.json records (the
     *                  capture settings are not used)
     * @param progress  stages {@code "encode coarse"} and {@code "encode fine"}, or null for none
     * @return the results and the files written
     * @throws IllegalArgumentException (bad input) when an SAE does not fit the captures or the layer, or another run
     *                                  holds {@code outDir}
     * @throws IOException when a capture folder or prompt file is missing or malformed, or a file cannot be written
     * @throws NullPointerException when {@code captures} or {@code settings} is null
     */
    public static Outcome crossmap(Captures captures, String coarseSae, String fineSae, Path outDir, Settings settings,
                                   ProgressListener progress) throws IOException {
        Objects.requireNonNull(captures, "captures");
        Objects.requireNonNull(settings, "settings");
        ExperimentConfig cfg = settings.config(captures.targetDir(), coarseSae, fineSae, outDir);
        return outcome(ConceptExperiment.analyze(cfg, open(captures, cfg), Bridge.progress(progress), new LinkedHashMap<>()));
    }

    private static dev.jlens.activations.Captured open(Captures c, ExperimentConfig cfg) throws IOException {
        return CaptureFolders.open(c.targetDir(), c.controlDir(), c.targetPrompts(), c.controlPrompts(), cfg.cacheDir());
    }

    private static Outcome outcome(ConceptExperiment.Outcome o) {
        return new Outcome(new Results(o.result()), o.outDir(), o.outDir().resolve("report.html"), o.outDir().resolve("results.json"),
                o.stageSeconds(), o.shardsComputed());
    }
}
