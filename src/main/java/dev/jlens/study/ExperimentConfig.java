package dev.jlens.study;

import dev.jlens.analysis.CrossResolutionMap;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Everything that defines a concept experiment (the France study by default).
 *
 * @param targetPrompts  .jsonl/.txt of concept prompts, or null for the shipped France set
 * @param controlPrompts .jsonl/.txt of neutral prompts, or null for the shipped neutral set
 * @param anchors        how many top coarse features (by selectivity) become anchors of the map
 * @param fineCandidates how many top fine features are mapped against the anchors
 * @param minActivation  minimum mean activation on the target prompts for a feature to be ranked by selectivity
 * @param cacheDir       where activation/aggregate caches live (shared between runs)
 * @param gpuCapture     capture with blocks 0..layer on the GPU (a CUDA build); its activations are cached apart
 * @param fastKv         capture with llama.cpp's f16 K/V cache instead of the default f32 one (~2e-3 instead of ~4e-5 row
 *                       error at layer 12); its activations are cached apart
 */
public record ExperimentConfig(Path model, String coarseSae, String fineSae, Path targetPrompts, Path controlPrompts, int layer,
                               Aggregator.Mode aggregate, CrossResolutionMap.Thresholds thresholds, int anchors, int fineCandidates,
                               double minActivation, int permutations, long seed, String encoder, Path outDir, Path cacheDir,
                               int nCtx, int nSeqMax, int threads, boolean gpuCapture, boolean fastKv) {
    /** A CPU capture with the default (f32 K/V) numerics. */
    public ExperimentConfig(Path model, String coarseSae, String fineSae, Path targetPrompts, Path controlPrompts, int layer,
                            Aggregator.Mode aggregate, CrossResolutionMap.Thresholds thresholds, int anchors, int fineCandidates,
                            double minActivation, int permutations, long seed, String encoder, Path outDir, Path cacheDir,
                            int nCtx, int nSeqMax, int threads) {
        this(model, coarseSae, fineSae, targetPrompts, controlPrompts, layer, aggregate, thresholds, anchors, fineCandidates,
                minActivation, permutations, seed, encoder, outDir, cacheDir, nCtx, nSeqMax, threads, false, false);
    }

    public ExperimentConfig {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(coarseSae, "coarseSae");
        Objects.requireNonNull(fineSae, "fineSae");
        Objects.requireNonNull(aggregate, "aggregate");
        Objects.requireNonNull(thresholds, "thresholds");
        Objects.requireNonNull(outDir, "outDir");
        Objects.requireNonNull(cacheDir, "cacheDir");
        if (layer < 0) throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        if (anchors < 1) throw new IllegalArgumentException("anchors must be >= 1, got " + anchors);
        if (fineCandidates < 1) throw new IllegalArgumentException("fineCandidates must be >= 1, got " + fineCandidates);
        if (!(minActivation >= 0)) throw new IllegalArgumentException("minActivation must be >= 0, got " + minActivation);
        if (permutations < 1) throw new IllegalArgumentException("permutations must be >= 1, got " + permutations);
        if (nCtx < 16) throw new IllegalArgumentException("context must be >= 16 tokens, got " + nCtx);
        if (nSeqMax < 1 || nSeqMax > 256) throw new IllegalArgumentException("prompts per batch must be in [1, 256], got " + nSeqMax);
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
}
