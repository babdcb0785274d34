package dev.jlens.cli;

import dev.jlens.api.Experiment;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The experiment's options, shared by `france` and the analysis subcommands. */
final class ExperimentOptions {
    @Option(names = "--target", description = "target (concept) prompts, .jsonl with facets or .txt (default: the shipped France set)") Path target;
    @Option(names = "--control", description = "control (neutral) prompts (default: the shipped neutral set)") Path control;
    @Option(names = "--layer", defaultValue = "12", description = "layer (default ${DEFAULT-VALUE})") int layer;
    @Option(names = "--aggregate", defaultValue = "max", description = "per-prompt aggregate over non-BOS tokens: max | mean | last") String aggregate;
    @Option(names = "--anchors", defaultValue = "10", description = "top coarse features used as anchors") int anchors;
    @Option(names = "--fine-candidates", defaultValue = "100", description = "top fine features mapped against the anchors") int fineCandidates;
    @Option(names = "--min-activation", defaultValue = "0.5", description = "min mean target activation to rank by selectivity") double minActivation;
    @Option(names = "--min-cosine", defaultValue = "0.3") double minCosine;
    @Option(names = "--min-correlation", defaultValue = "0.5") double minCorrelation;
    @Option(names = "--min-sub-features", defaultValue = "3", description = "fine matches an anchor needs for GO") int minSub;
    @Option(names = "--permutations", defaultValue = "1000") int permutations;
    @Option(names = "--seed", defaultValue = "1234") long seed;
    @Option(names = "--encoder", defaultValue = "auto", description = "auto | vector | ggml | ggml-gpu | scalar") String encoder;
    @Option(names = "--ctx", defaultValue = "2048", description = "context size = most tokens per batch") int ctx;
    @Option(names = "--seqs", defaultValue = "64", description = "most prompts per batch") int seqs;
    @Option(names = "--threads", defaultValue = "0", description = "CPU threads (0 = all cores)") int threads;
    @Option(names = "--gpu-capture", description = "capture with blocks 0..layer on the GPU (needs a CUDA build and a GPU)") boolean gpuCapture;
    @Option(names = "--cache", description = "cache folder for activations and aggregates (default: runs/cache)") Path cache;

    /** The options as the API's settings (validated: IllegalArgumentException names the bad value). */
    Experiment.Settings settings() {
        return Experiment.Settings.builder().targetPrompts(target).controlPrompts(control).layer(layer)
                .aggregate(Experiment.Aggregate.parse(aggregate)).anchors(anchors).fineCandidates(fineCandidates)
                .minActivation(minActivation).minCosine(minCosine).minCorrelation(minCorrelation).minSubFeatures(minSub)
                .permutations(permutations).seed(seed).encoder(encoder).contextTokens(ctx).promptsPerBatch(seqs).threads(threads())
                .gpuCapture(gpuCapture).cacheDir(cache != null ? cache : Path.of("runs", "cache")).build();
    }

    /** --threads, 0 (or less) meaning all cores. */
    int threads() { return threads > 0 ? threads : Runtime.getRuntime().availableProcessors(); }
}
