package dev.jlens.study.steering;

import dev.jlens.api.SteeringStudy;

import dev.jlens.study.ExperimentResult;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Everything that defines a steering comparison run.
 *
 * @param layer          residual layer steered (its output) and re-encoded for scoring; the SAEs' hook layer
 * @param mode           ADD: Σ strength·typical·decoder row; DELTA: decode(f') − decode(f) around the mean neutral residual
 * @param prompts        how many of the shipped neutral prompts (first N) to continue
 * @param seeds          one generation per prompt per seed (sampling seed of llama.cpp's dist sampler)
 * @param strengths      multiples of each feature's typical activation; 0 is the unsteered baseline, shared by all conditions
 * @param fluencyTolerance perplexities count as equal when they differ by at most this fraction of coarse-only's
 * @param results        results.json of the France experiment (for the report), or null to skip the report
 */
public record SteeringConfig(Path model, String coarseSae, String fineSae, int layer, SteeringPlan plan, SteeringStudy.Mode mode, int prompts,
                             long[] seeds, double[] strengths, int maxTokens, float temperature, int topK, float topP,
                             int bootstrapResamples, long seed, double fluencyTolerance, int examplesPerCondition,
                             Path outDir, int nCtx, int threads, ExperimentResult results) {

    public SteeringConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(coarseSae, "coarseSae");
        Objects.requireNonNull(fineSae, "fineSae");
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(outDir, "outDir");
        if (layer < 1) throw new IllegalArgumentException("steering layer must be >= 1 (llama.cpp control vectors start at layer 1), got " + layer);
        if (prompts < 1) throw new IllegalArgumentException("prompts must be >= 1, got " + prompts);
        seeds = Objects.requireNonNull(seeds, "seeds").clone();
        if (seeds.length == 0) throw new IllegalArgumentException("give at least one seed");
        for (long s : seeds) if (s < 0 || s > 0xFFFFFFFFL) throw new IllegalArgumentException("seed must be in [0, 2^32), got " + s);
        strengths = Objects.requireNonNull(strengths, "strengths").clone();
        if (strengths.length == 0) throw new IllegalArgumentException("give at least one strength");
        for (int i = 0; i < strengths.length; i++) {
            if (!(strengths[i] >= 0) || !Double.isFinite(strengths[i])) throw new IllegalArgumentException("strength must be finite and >= 0, got " + strengths[i]);
            if (i > 0 && strengths[i] <= strengths[i - 1]) throw new IllegalArgumentException("strengths must be strictly increasing, got " + Arrays.toString(strengths));
        }
        if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
        if (bootstrapResamples < 1) throw new IllegalArgumentException("bootstrapResamples must be >= 1, got " + bootstrapResamples);
        if (!(fluencyTolerance >= 0) || !Double.isFinite(fluencyTolerance)) throw new IllegalArgumentException("fluencyTolerance must be finite and >= 0, got " + fluencyTolerance);
        if (examplesPerCondition < 0) throw new IllegalArgumentException("examplesPerCondition must be >= 0, got " + examplesPerCondition);
        if (nCtx < 16) throw new IllegalArgumentException("context must be >= 16 tokens, got " + nCtx);
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        // sampling parameters are validated by Generation.Params when the run starts
    }

    @Override public long[] seeds() { return seeds.clone(); }

    @Override public double[] strengths() { return strengths.clone(); }
}
