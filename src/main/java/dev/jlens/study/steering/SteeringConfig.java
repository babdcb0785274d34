package dev.jlens.study.steering;

import dev.jlens.api.SteeringStudy;

import dev.jlens.study.ExperimentResult;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One steering run: what it reads and writes, and its settings. The settings are the API's one record,
 * {@link SteeringStudy.Settings}, validated when it was built; the accessors below only name its values the way the
 * study uses them (as {@code study.ExperimentConfig} does for the France study).
 *
 * @param model     the GGUF model file
 * @param coarseSae the coarse SAE: params.npz, SAELens directory or registry id
 * @param fineSae   the fine SAE
 * @param layer     residual layer steered (its output) and re-encoded for scoring; the SAEs' hook layer, >= 1 (llama.cpp
 *                  control vectors start at layer 1)
 * @param plan      anchor, target fine feature and typical activations
 * @param outDir    the output folder
 * @param results   results.json of the France experiment (for the report and the numerics), or null to skip the report
 * @param settings  everything else
 */
public record SteeringConfig(Path model, String coarseSae, String fineSae, int layer, SteeringPlan plan, Path outDir,
                             ExperimentResult results, SteeringStudy.Settings settings) {

    public SteeringConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(coarseSae, "coarseSae");
        Objects.requireNonNull(fineSae, "fineSae");
        Objects.requireNonNull(plan, "plan");
        Objects.requireNonNull(outDir, "outDir");
        Objects.requireNonNull(settings, "settings");
        if (layer < 1) throw new IllegalArgumentException("steering layer must be >= 1 (llama.cpp control vectors start at layer 1), got " + layer);
    }

    /** ADD: Σ strength·typical·decoder row; DELTA: decode(f') − decode(f) around the mean neutral residual. */
    public SteeringStudy.Mode mode() { return settings.mode(); }

    /** How many of the shipped neutral prompts (first N) to continue. */
    public int prompts() { return settings.prompts(); }

    /** One generation per prompt per seed (sampling seed of llama.cpp's dist sampler); a copy. */
    public long[] seeds() { return settings.seeds(); }

    /** Multiples of each feature's typical activation; 0 is the unsteered baseline, shared by all conditions; a copy. */
    public double[] strengths() { return settings.strengths(); }

    public int maxTokens() { return settings.maxTokens(); }

    public float temperature() { return settings.temperature(); }

    public int topK() { return settings.topK(); }

    public float topP() { return settings.topP(); }

    public int bootstrapResamples() { return settings.bootstrapResamples(); }

    /** Seed of the bootstrap and the random direction. */
    public long seed() { return settings.seed(); }

    /** Perplexities count as equal when they differ by at most this fraction of coarse-only's. */
    public double fluencyTolerance() { return settings.fluencyTolerance(); }

    public int examplesPerCondition() { return settings.examplesPerCondition(); }

    public int nCtx() { return settings.contextTokens(); }

    public int threads() { return settings.threads(); }
}
