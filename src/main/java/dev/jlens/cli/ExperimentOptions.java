package dev.jlens.cli;

import dev.jlens.api.EncoderKind;
import dev.jlens.api.Experiment;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;

/** The experiment's options, shared by `france` and the analysis subcommands. */
final class ExperimentOptions {
    /** ggml's GGML_MAX_N_THREADS: its thread pool has room for no more (10000 threads segfaulted in llama.cpp). */
    static final int GGML_MAX_THREADS = 512;
    /** llama.cpp's most sequences per batch (LLAMA_MAX_SEQ). */
    static final int MAX_SEQS = 256;

    @Spec(Spec.Target.MIXEE) CommandSpec mixee;

    @Option(names = "--seqs", defaultValue = "64", description = "most prompts per batch, 1..256")
    void setSeqs(int n) { seqs = checkSeqs(mixee, n); }

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads (0 = all cores; at most 4 x the cores, 512 in all)")
    void setThreads(int n) { threads = checkThreads(mixee, n); }

    @Option(names = "--target", description = "target (concept) prompts, .jsonl with facets or .txt (default: the shipped France set)") Path target;
    @Option(names = "--control", description = "control (neutral) prompts (default: the shipped neutral set)") Path control;
    @Option(names = "--layer", defaultValue = "12", description = "layer whose output (blocks.L.hook_resid_post) is captured and analysed; the SAEs must be of this layer") int layer;
    @Option(names = "--aggregate", defaultValue = "max", converter = AggregateConverter.class, description = "per-prompt aggregate over non-BOS tokens: max | mean | last") Experiment.Aggregate aggregate;
    @Option(names = "--anchors", defaultValue = "10", description = "top coarse features used as anchors") int anchors;
    @Option(names = "--fine-candidates", defaultValue = "100", description = "top fine features mapped against the anchors") int fineCandidates;
    @Option(names = "--min-activation", defaultValue = "0.5", description = "min mean target activation to rank by selectivity") double minActivation;
    @Option(names = "--min-cosine", defaultValue = "0.3", description = "least decoder-row cosine for a fine feature to count as a sub-feature of an anchor") double minCosine;
    @Option(names = "--min-correlation", defaultValue = "0.5", description = "least correlation of per-prompt activations (target prompts) for a fine feature to count as a sub-feature of an anchor") double minCorrelation;
    @Option(names = "--min-sub-features", defaultValue = "3", description = "fine matches an anchor needs for GO") int minSub;
    int permutations;

    /** Most --permutations: each relabeling is held as one flag per prompt for every feature's check. */
    static final int MAX_PERMUTATIONS = 100_000;

    @Option(names = "--permutations", defaultValue = "1000", description = "label permutations per feature for the permutation check of the p-values (1..100000; the smallest p it can give is 1/(N+1))")
    void setPermutations(int n) {
        if (n < 1 || n > MAX_PERMUTATIONS) {
            throw new ParameterException(mixee.commandLine(), "--permutations must be in [1, " + MAX_PERMUTATIONS + "] (each permutation is held as one flag per prompt), got " + n);
        }
        permutations = n;
    }
    @Option(names = "--seed", defaultValue = "1234", description = "seed of the label permutations (and of steering's random direction and bootstrap)") long seed;
    @Option(names = "--encoder", defaultValue = "auto", converter = EncoderConverter.class, description = "auto | vector | ggml | ggml-gpu | scalar") EncoderKind encoder;
    @Option(names = "--ctx", defaultValue = "2048", description = "context size = most tokens per batch") int ctx;
    int seqs;
    int threads;
    @Option(names = "--gpu-capture", description = "capture with blocks 0..layer on the GPU (needs a CUDA build and a GPU)") boolean gpuCapture;
    @Option(names = "--cache", description = "cache folder for activations and aggregates (default: runs/cache)") Path cache;

    /** The prompt files are regular files and strict JSON Lines (before any work; exit 2 naming file, line and key). */
    void check() throws java.io.IOException {
        Checks.promptFile("--target", target);
        Checks.promptFile("--control", control);
    }

    /** The options as the API's settings (validated: IllegalArgumentException names the bad value). */
    Experiment.Settings settings() {
        return Experiment.Settings.builder().targetPrompts(target).controlPrompts(control).layer(layer)
                .aggregate(aggregate).anchors(anchors).fineCandidates(fineCandidates)
                .minActivation(minActivation).minCosine(minCosine).minCorrelation(minCorrelation).minSubFeatures(minSub)
                .permutations(permutations).seed(seed).encoder(encoder).contextTokens(ctx).promptsPerBatch(seqs).threads(threads())
                .gpuCapture(gpuCapture).cacheDir(cache != null ? cache : Path.of("runs", "cache")).build();
    }

    /** --encoder's spelling (ggml-gpu...), refused while the command line is parsed: exit 2 before any file is read. */
    static final class EncoderConverter implements ITypeConverter<EncoderKind> {
        @Override public EncoderKind convert(String s) { return EncoderKind.parse(s); }
    }

    /** --aggregate, any case, refused while the command line is parsed. */
    static final class AggregateConverter implements ITypeConverter<Experiment.Aggregate> {
        @Override public Experiment.Aggregate convert(String s) { return Experiment.Aggregate.parse(s); }
    }

    /** --threads, 0 meaning all cores. */
    int threads() { return threads > 0 ? threads : Runtime.getRuntime().availableProcessors(); }

    /** Most --threads: 4 x the available processors (more only slows ggml's barrier), never above ggml's 512. */
    static int maxThreads() { return Math.min(GGML_MAX_THREADS, 4 * Runtime.getRuntime().availableProcessors()); }

    /** --threads as given, checked while the command line is parsed (exit 2 before any work). */
    static int checkThreads(CommandSpec spec, int n) {
        int cores = Runtime.getRuntime().availableProcessors();
        if (n < 0 || n > maxThreads()) {
            throw new ParameterException(spec.commandLine(), "--threads must be 0 (all " + cores + " cores) or 1.." + maxThreads()
                    + " (4 x the available processors, at most " + GGML_MAX_THREADS + "), got " + n);
        }
        return n;
    }

    /** --seqs as given, checked while the command line is parsed (the message names the value the user typed). */
    static int checkSeqs(CommandSpec spec, int n) {
        if (n < 1 || n > MAX_SEQS) throw new ParameterException(spec.commandLine(), "--seqs (prompts per batch) must be in [1, " + MAX_SEQS + "], got " + n);
        return n;
    }
}
