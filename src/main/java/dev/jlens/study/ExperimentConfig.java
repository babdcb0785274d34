package dev.jlens.study;

import dev.jlens.analysis.CrossResolutionMap;
import dev.jlens.api.EncoderKind;
import dev.jlens.api.Experiment;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One concept-experiment run (the France study by default): what it reads and writes, and its settings. The settings
 * are the API's one record, {@link Experiment.Settings}, validated when it was built; the accessors below only name
 * its values the way the stages use them.
 *
 * @param model     the GGUF model file (for an analysis of capture folders: the target folder, as recorded)
 * @param coarseSae the coarse SAE: params.npz, SAELens directory or registry id
 * @param fineSae   the fine SAE
 * @param outDir    the output folder
 * @param settings  everything else
 */
public record ExperimentConfig(Path model, String coarseSae, String fineSae, Path outDir, Experiment.Settings settings) {
    public ExperimentConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(coarseSae, "coarseSae");
        Objects.requireNonNull(fineSae, "fineSae");
        Objects.requireNonNull(outDir, "outDir");
        Objects.requireNonNull(settings, "settings");
    }

    /** .jsonl/.txt of concept prompts, or null for the shipped France set. */
    public Path targetPrompts() { return settings.targetPrompts(); }

    /** .jsonl/.txt of neutral prompts, or null for the shipped neutral set. */
    public Path controlPrompts() { return settings.controlPrompts(); }

    public int layer() { return settings.layer(); }

    public Experiment.Aggregate aggregate() { return settings.aggregate(); }

    /** The match thresholds of the cross-resolution map. */
    public CrossResolutionMap.Thresholds thresholds() {
        return new CrossResolutionMap.Thresholds(settings.minCosine(), settings.minCorrelation(), settings.minSubFeatures());
    }

    public int anchors() { return settings.anchors(); }

    public int fineCandidates() { return settings.fineCandidates(); }

    public double minActivation() { return settings.minActivation(); }

    public int permutations() { return settings.permutations(); }

    public long seed() { return settings.seed(); }

    public EncoderKind encoder() { return settings.encoder(); }

    /** Where the activation and aggregate caches live (shared between runs). */
    public Path cacheDir() { return settings.cacheDir(); }

    public int nCtx() { return settings.contextTokens(); }

    public int nSeqMax() { return settings.promptsPerBatch(); }

    public int threads() { return settings.threads(); }

    /** Capture with blocks 0..layer on the GPU (a CUDA build); its activations are cached apart. */
    public boolean gpuCapture() { return settings.gpuCapture(); }

    /** Capture with llama.cpp's f16 K/V cache instead of the default f32 one; its activations are cached apart. */
    public boolean fastKv() { return settings.fastKv(); }
}
