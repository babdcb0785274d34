package dev.jlens.api;

import dev.jlens.study.ExperimentResult;
import dev.jlens.study.steering.SteeringConfig;
import dev.jlens.study.steering.SteeringExperiment;
import dev.jlens.study.steering.SteeringPlan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Phase 2 of the concept study: does steering generation with the coarse anchor plus a matched fine feature target
 * that feature's facet better than the coarse anchor alone, at equal fluency? Continues the first N shipped neutral
 * prompts under no steering and under each condition ({@code coarse}, {@code fine}, {@code fine-all},
 * {@code coarse+fine}, and a {@code random} direction of equal norm) over a strength sweep and several sampling seeds,
 * scores every continuation with the unsteered model (re-encoded SAE activations, lexicon rates, teacher-forced
 * perplexity, repetition), aggregates with seeded bootstrap intervals, and writes {@code steering.json},
 * {@code generations.csv} and the report with its steering section into one folder.
 *
 * <p>For single steered generations use {@link LensSession#steer} and {@link LensSession#generate}: this class runs
 * the whole comparison. Threads: {@link #run} loads and closes its own model, SAEs and context and may run on any
 * thread. A run holds its output folder's lock from start to end (a second run into the same folder, from this or
 * another process, is refused with an IllegalArgumentException naming the folder) and moves its outputs in with
 * {@code steering.json} last, so a folder holding steering.json holds the whole output of one run. steering.json
 * lists the unsteered baseline once (condition {@code none}, strength 0), then every condition at every strength
 * above 0.
 */
public final class SteeringStudy {
    private SteeringStudy() {}

    /** How a condition's steering vector is built from its features. */
    public enum Mode {
        /** Σ strength · typical activation · decoder row, added at every position */
        ADD,
        /** decode(f') − decode(f) around the mean neutral residual, f' = f with the features raised */
        DELTA
    }

    /**
     * Everything that defines a comparison besides the experiment's results and the output folder: the one settings
     * record of the steering study (the study's internal config holds it as it is). Validated when built: a value out
     * of the ranges below throws IllegalArgumentException naming it, so {@code jlens steer} refuses it (exit 2) before
     * any file is read. What needs the model or the results (the prompt count against the shipped set, a prompt plus
     * {@code maxTokens} against the context, the target feature against the SAE) is checked when {@link #run} starts.
     * Immutable (the arrays are copied in and out).
     *
     * @param prompts              how many of the shipped neutral prompts (the first N, at most 200) to continue, >= 1
     * @param seeds                sampling seeds, each in [0, 2^32); one generation per prompt per seed
     * @param strengths            multiples of each feature's typical activation (its mean target activation in the
     *                             results), finite, >= 0, strictly increasing; 0 is the unsteered baseline
     * @param maxTokens            tokens generated per continuation, >= 1
     * @param temperature          sampling temperature, finite, >= 0 (0 = greedy)
     * @param topK                 top-k filter, >= 0 (0 = off)
     * @param topP                 nucleus filter, in (0, 1] (1 = off)
     * @param mode                 how vectors are built
     * @param targetFine           the fine feature for {@code fine} and {@code coarse+fine} (one of the anchor's matches),
     *                             or null for the anchor's strongest match; >= 0
     * @param bootstrapResamples   resamples for the 95% intervals, >= 1
     * @param fluencyTolerance     perplexities within this fraction of coarse-only's count as equal fluency, >= 0
     * @param examplesPerCondition example generations per condition and strength in the report, >= 0
     * @param seed                 seed of the bootstrap and the random direction
     * @param contextTokens        context size in tokens, >= 16; a prompt plus {@code maxTokens} must fit
     * @param threads              CPU threads, >= 1
     */
    public record Settings(int prompts, long[] seeds, double[] strengths, int maxTokens, float temperature, int topK, float topP,
                           Mode mode, Integer targetFine, int bootstrapResamples, double fluencyTolerance, int examplesPerCondition,
                           long seed, int contextTokens, int threads) {
        /** Copies the arrays and validates every value (IllegalArgumentException or NullPointerException naming it). */
        public Settings {
            seeds = Objects.requireNonNull(seeds, "seeds").clone();
            strengths = Objects.requireNonNull(strengths, "strengths").clone();
            Objects.requireNonNull(mode, "mode");
            if (prompts < 1) throw new IllegalArgumentException("prompts must be >= 1, got " + prompts);
            if (seeds.length == 0) throw new IllegalArgumentException("give at least one seed");
            for (long s : seeds) if (s < 0 || s > 0xFFFFFFFFL) throw new IllegalArgumentException("seed must be in [0, 2^32), got " + s);
            if (strengths.length == 0) throw new IllegalArgumentException("give at least one strength");
            for (int i = 0; i < strengths.length; i++) {
                if (!(strengths[i] >= 0) || !Double.isFinite(strengths[i])) throw new IllegalArgumentException("strength must be finite and >= 0, got " + strengths[i]);
                if (i > 0 && strengths[i] <= strengths[i - 1]) {
                    throw new IllegalArgumentException("strengths must be strictly increasing, got " + java.util.Arrays.toString(strengths));
                }
            }
            if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
            if (!(temperature >= 0) || !Float.isFinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
            if (topK < 0) throw new IllegalArgumentException("topK must be >= 0, got " + topK);
            if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
            if (targetFine != null && targetFine < 0) throw new IllegalArgumentException("targetFine must be >= 0, got " + targetFine);
            if (bootstrapResamples < 1) throw new IllegalArgumentException("bootstrapResamples must be >= 1, got " + bootstrapResamples);
            if (!(fluencyTolerance >= 0) || !Double.isFinite(fluencyTolerance)) {
                throw new IllegalArgumentException("fluencyTolerance must be finite and >= 0, got " + fluencyTolerance);
            }
            if (examplesPerCondition < 0) throw new IllegalArgumentException("examplesPerCondition must be >= 0, got " + examplesPerCondition);
            if (contextTokens < 16) throw new IllegalArgumentException("context must be >= 16 tokens, got " + contextTokens);
            if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }

        /**
         * The defaults of {@code jlens steer}: 20 prompts, seeds 1,2,3, strengths 0,2,4,8, 24 tokens, temperature 0.8,
         * top-k 40, top-p 0.95, ADD, the strongest match, 1000 resamples, tolerance 0.25, 2 examples, seed 1234,
         * 2048-token context, all cores.
         *
         * @return the default settings, one thread per available processor
         */
        public static Settings defaults() {
            return new Settings(20, new long[] {1, 2, 3}, new double[] {0, 2, 4, 8}, 24, 0.8f, 40, 0.95f, Mode.ADD, null, 1000, 0.25, 2,
                    1234, 2048, Runtime.getRuntime().availableProcessors());
        }

        /**
         * The sampling seeds.
         *
         * @return a copy: changing it does not change these settings
         */
        @Override public long[] seeds() { return seeds.clone(); }

        /**
         * The strength sweep, in multiples of each feature's typical activation.
         *
         * @return a copy, strictly increasing: changing it does not change these settings
         */
        @Override public double[] strengths() { return strengths.clone(); }

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

        /**
         * Mutable, single-thread builder of {@link Settings}: each setter sets the component of the same name (see
         * {@link Settings} for meanings and ranges; arrays are copied); nothing is checked until {@link #build()}.
         */
        public static final class Builder {
            private int prompts, maxTokens, topK, bootstrapResamples, examplesPerCondition, contextTokens, threads;
            private long[] seeds;
            private double[] strengths;
            private float temperature, topP;
            private Mode mode;
            private Integer targetFine;
            private double fluencyTolerance;
            private long seed;

            private Builder(Settings s) {
                prompts = s.prompts; seeds = s.seeds; strengths = s.strengths; maxTokens = s.maxTokens; temperature = s.temperature;
                topK = s.topK; topP = s.topP; mode = s.mode; targetFine = s.targetFine; bootstrapResamples = s.bootstrapResamples;
                fluencyTolerance = s.fluencyTolerance; examplesPerCondition = s.examplesPerCondition; seed = s.seed;
                contextTokens = s.contextTokens; threads = s.threads;
            }

            /**
             * Sets {@link Settings#prompts()}.
             *
             * @param n how many of the shipped neutral prompts to continue, the first N, in [1, 200]
             * @return this builder
             */
            public Builder prompts(int n) { prompts = n; return this; }

            /**
             * Sets {@link Settings#seeds()}.
             *
             * @param s sampling seeds, at least one, each in [0, 2^32); copied
             * @return this builder
             */
            public Builder seeds(long... s) { seeds = s.clone(); return this; }

            /**
             * Sets {@link Settings#strengths()}.
             *
             * @param s multiples of each feature's typical activation, finite, &gt;= 0, strictly increasing, at least
             *          one; copied
             * @return this builder
             */
            public Builder strengths(double... s) { strengths = s.clone(); return this; }

            /**
             * Sets {@link Settings#maxTokens()}.
             *
             * @param n tokens generated per continuation, &gt;= 1
             * @return this builder
             */
            public Builder maxTokens(int n) { maxTokens = n; return this; }

            /**
             * Sets {@link Settings#temperature()}.
             *
             * @param t sampling temperature, finite, &gt;= 0 (0 = greedy)
             * @return this builder
             */
            public Builder temperature(float t) { temperature = t; return this; }

            /**
             * Sets {@link Settings#topK()}.
             *
             * @param k top-k filter, &gt;= 0 (0 = off)
             * @return this builder
             */
            public Builder topK(int k) { topK = k; return this; }

            /**
             * Sets {@link Settings#topP()}.
             *
             * @param p nucleus filter, in (0, 1] (1 = off)
             * @return this builder
             */
            public Builder topP(float p) { topP = p; return this; }

            /**
             * Sets {@link Settings#mode()}.
             *
             * @param m how each condition's vector is built, not null
             * @return this builder
             */
            public Builder mode(Mode m) { mode = m; return this; }

            /**
             * Sets {@link Settings#targetFine()}.
             *
             * @param f the fine feature to steer with, one of the anchor's matches, &gt;= 0; null for the anchor's
             *          strongest match
             * @return this builder
             */
            public Builder targetFine(Integer f) { targetFine = f; return this; }

            /**
             * Sets {@link Settings#bootstrapResamples()}.
             *
             * @param n bootstrap resamples for the 95% intervals, &gt;= 1
             * @return this builder
             */
            public Builder bootstrapResamples(int n) { bootstrapResamples = n; return this; }

            /**
             * Sets {@link Settings#fluencyTolerance()}.
             *
             * @param t relative perplexity difference to coarse-only still counted as equal fluency, finite, &gt;= 0
             *          (0.25 = within 25%)
             * @return this builder
             */
            public Builder fluencyTolerance(double t) { fluencyTolerance = t; return this; }

            /**
             * Sets {@link Settings#examplesPerCondition()}.
             *
             * @param n example generations shown in the report per condition and strength, &gt;= 0
             * @return this builder
             */
            public Builder examplesPerCondition(int n) { examplesPerCondition = n; return this; }

            /**
             * Sets {@link Settings#seed()}.
             *
             * @param s seed of the bootstrap resampling and of the random direction, any value
             * @return this builder
             */
            public Builder seed(long s) { seed = s; return this; }

            /**
             * Sets {@link Settings#contextTokens()}.
             *
             * @param n context size in tokens, &gt;= 16; a prompt plus {@code maxTokens} must fit
             * @return this builder
             */
            public Builder contextTokens(int n) { contextTokens = n; return this; }

            /**
             * Sets {@link Settings#threads()}.
             *
             * @param n CPU threads, &gt;= 1
             * @return this builder
             */
            public Builder threads(int n) { threads = n; return this; }

            /**
             * Builds the settings; the builder can be changed and built again afterwards.
             *
             * @return the validated settings
             * @throws IllegalArgumentException naming the value that is out of its range
             * @throws NullPointerException naming a missing value (seeds, strengths, mode)
             */
            public Settings build() {
                return new Settings(prompts, seeds, strengths, maxTokens, temperature, topK, topP, mode, targetFine, bootstrapResamples,
                        fluencyTolerance, examplesPerCondition, seed, contextTokens, threads);
            }
        }
    }

    /**
     * What a comparison produced.
     *
     * @param verdict        the verdict, as steering.json records it
     * @param anchor         the coarse feature steered
     * @param targetFine     the fine feature steered in {@code fine} and {@code coarse+fine}
     * @param targetFacet    that feature's facet
     * @param outDir         the output folder
     * @param report         {@code report.html} in it (the experiment's report plus the steering section)
     * @param steeringJson   {@code steering.json} in it
     * @param generationsCsv {@code generations.csv} in it
     */
    public record Outcome(SteeringVerdict verdict, int anchor, int targetFine, String targetFacet, Path outDir,
                          Path report, Path steeringJson, Path generationsCsv) {
        /**
         * The verdict's decision.
         *
         * @return {@link SteeringVerdict.Decision#MULTI_RESOLUTION_BETTER} or {@link SteeringVerdict.Decision#NOT_SHOWN}
         */
        public SteeringVerdict.Decision decision() { return verdict.decision(); }

        /**
         * The strength the verdict is about.
         *
         * @return a strength of the sweep, in multiples of each feature's typical activation (0 when no strength above
         *         0 was run)
         */
        public double strength() { return verdict.strength(); }

        /**
         * The verdict in one sentence.
         *
         * @return the sentence, with the numbers and intervals, as steering.json and the report give it
         */
        public String sentence() { return verdict.sentence(); }
    }

    /**
     * Runs the comparison for an experiment's results: its model, SAEs and layer, its verdict's anchor and the fine
     * features matched to it, and their typical activations. {@code progress} (may be null) counts generations.
     * Throws IllegalArgumentException when the results' model file is not on this machine, the verdict has no anchor
     * or matched fine feature, or a setting does not fit the model or the results (the settings' own ranges were checked
     * when they were built). A second run writing the same folder at the same time is refused: {@code RunFolder}'s lock
     * (IllegalArgumentException naming the folder).
     *
     * @param results  a concept experiment's results ({@link Experiment#run} or {@link Experiment.Results#read}) whose
     *                 verdict names an anchor with at least one matched fine feature
     * @param outDir   the output folder, created when missing; its steering outputs and report are replaced
     * @param settings the comparison's settings
     * @param progress stage {@code "generate <condition> x<strength>"}, counted in generations over the whole run, or
     *                 null for none
     * @return the verdict, the features steered and the files written
     * @throws IllegalArgumentException (bad input) as above
     * @throws IOException when the SAEs, the prompts or an output file cannot be read or written
     * @throws NullPointerException when {@code results}, {@code outDir} or {@code settings} is null
     */
    public static Outcome run(Experiment.Results results, Path outDir, Settings settings, ProgressListener progress) throws IOException {
        Objects.requireNonNull(results, "results");
        Objects.requireNonNull(outDir, "outDir");
        Objects.requireNonNull(settings, "settings");
        ExperimentResult r = results.internal();
        if (!Files.isRegularFile(Path.of(r.config().model()))) {
            throw new IllegalArgumentException("results.json names model " + r.config().model() + ", which is not a file here");
        }
        SteeringPlan plan = SteeringPlan.fromResults(r);
        if (settings.targetFine() != null) plan = plan.withTarget(settings.targetFine());
        SteeringConfig cfg = new SteeringConfig(Path.of(r.config().model()), r.config().coarseSae().id(), r.config().fineSae().id(),
                r.config().layer(), plan, outDir, r, settings);
        SteeringExperiment.Outcome s = SteeringExperiment.run(cfg, Bridge.progress(progress));
        var v = s.result().verdict();
        SteeringPlan p = s.result().plan();
        return new Outcome(v, p.anchor(), p.targetFine(), p.targetFacet(), outDir,
                outDir.resolve("report.html"), outDir.resolve("steering.json"), outDir.resolve("generations.csv"));
    }
}
