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
 * thread; two runs writing the same folder at the same time are not supported.
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
     * Everything that defines a comparison besides the experiment's results and the output folder. Null checks on
     * construction; the ranges below are checked when {@link #run} starts (IllegalArgumentException naming the value).
     * Immutable (the arrays are copied in and out).
     *
     * @param prompts              how many of the shipped neutral prompts (the first N, at most 200) to continue, >= 1
     * @param seeds                sampling seeds, each in [0, 2^32); one generation per prompt per seed
     * @param strengths            multiples of each feature's typical activation (its mean target activation in the
     *                             results), finite, >= 0, strictly increasing; 0 is the unsteered baseline
     * @param maxTokens            tokens generated per continuation, >= 1
     * @param temperature          sampling temperature (0 = greedy)
     * @param topK                 top-k filter (0 = off)
     * @param topP                 nucleus filter (1 = off)
     * @param mode                 how vectors are built
     * @param targetFine           the fine feature for {@code fine} and {@code coarse+fine} (one of the anchor's matches),
     *                             or null for the anchor's strongest match
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
        /** Copies the arrays; null checks only. */
        public Settings {
            seeds = Objects.requireNonNull(seeds, "seeds").clone();
            strengths = Objects.requireNonNull(strengths, "strengths").clone();
            Objects.requireNonNull(mode, "mode");
        }

        /**
         * The defaults of {@code jlens steer}: 20 prompts, seeds 1,2,3, strengths 0,2,4,8, 24 tokens, temperature 0.8,
         * top-k 40, top-p 0.95, ADD, the strongest match, 1000 resamples, tolerance 0.25, 2 examples, seed 1234,
         * 2048-token context, all cores.
         */
        public static Settings defaults() {
            return new Settings(20, new long[] {1, 2, 3}, new double[] {0, 2, 4, 8}, 24, 0.8f, 40, 0.95f, Mode.ADD, null, 1000, 0.25, 2,
                    1234, 2048, Runtime.getRuntime().availableProcessors());
        }

        /** A copy of the seeds. */
        @Override public long[] seeds() { return seeds.clone(); }

        /** A copy of the strengths. */
        @Override public double[] strengths() { return strengths.clone(); }

        /** A builder starting from {@link #defaults()}. */
        public static Builder builder() { return defaults().toBuilder(); }

        /** A builder starting from these settings. */
        /** Sets {@link Settings#toBuilder()}. */
        public Builder toBuilder() { return new Builder(this); }

        /**
         * Mutable, single-thread builder of {@link Settings}: each setter sets the component of the same name (see
         * {@link Settings} for meanings and ranges; arrays are copied).
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

            /** Sets {@link Settings#prompts()}. */
            public Builder prompts(int n) { prompts = n; return this; }
            /** Sets {@link Settings#seeds()}. */
            public Builder seeds(long... s) { seeds = s.clone(); return this; }
            /** Sets {@link Settings#strengths()}. */
            public Builder strengths(double... s) { strengths = s.clone(); return this; }
            /** Sets {@link Settings#maxTokens()}. */
            public Builder maxTokens(int n) { maxTokens = n; return this; }
            /** Sets {@link Settings#temperature()}. */
            public Builder temperature(float t) { temperature = t; return this; }
            /** Sets {@link Settings#topK()}. */
            public Builder topK(int k) { topK = k; return this; }
            /** Sets {@link Settings#topP()}. */
            public Builder topP(float p) { topP = p; return this; }
            /** Sets {@link Settings#mode()}. */
            public Builder mode(Mode m) { mode = m; return this; }
            /** Sets {@link Settings#targetFine()}. */
            public Builder targetFine(Integer f) { targetFine = f; return this; }
            /** Sets {@link Settings#bootstrapResamples()}. */
            public Builder bootstrapResamples(int n) { bootstrapResamples = n; return this; }
            /** Sets {@link Settings#fluencyTolerance()}. */
            public Builder fluencyTolerance(double t) { fluencyTolerance = t; return this; }
            /** Sets {@link Settings#examplesPerCondition()}. */
            public Builder examplesPerCondition(int n) { examplesPerCondition = n; return this; }
            /** Sets {@link Settings#seed()}. */
            public Builder seed(long s) { seed = s; return this; }
            /** Sets {@link Settings#contextTokens()}. */
            public Builder contextTokens(int n) { contextTokens = n; return this; }
            /** Sets {@link Settings#threads()}. */
            public Builder threads(int n) { threads = n; return this; }

            /** The settings (only null checks here; ranges are checked by {@link SteeringStudy#run}). */
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
        /** The verdict's decision. */
        public SteeringVerdict.Decision decision() { return verdict.decision(); }

        /** The strength the verdict is about. */
        public double strength() { return verdict.strength(); }

        /** The verdict in one sentence. */
        public String sentence() { return verdict.sentence(); }
    }

    /**
     * Runs the comparison for an experiment's results: its model, SAEs and layer, its verdict's anchor and the fine
     * features matched to it, and their typical activations. {@code progress} (may be null) counts generations.
     * Throws IllegalArgumentException when the results' model file is not on this machine, the verdict has no anchor
     * or matched fine feature, or a setting is out of range.
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
                r.config().layer(), plan, settings.mode(), settings.prompts(), settings.seeds(),
                settings.strengths(), settings.maxTokens(), settings.temperature(), settings.topK(), settings.topP(),
                settings.bootstrapResamples(), settings.seed(), settings.fluencyTolerance(), settings.examplesPerCondition(), outDir,
                settings.contextTokens(), settings.threads(), r);
        SteeringExperiment.Outcome s = SteeringExperiment.run(cfg, Bridge.progress(progress));
        var v = s.result().verdict();
        SteeringPlan p = s.result().plan();
        return new Outcome(v, p.anchor(), p.targetFine(), p.targetFacet(), outDir,
                outDir.resolve("report.html"), outDir.resolve("steering.json"), outDir.resolve("generations.csv"));
    }
}
