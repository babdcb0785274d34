package dev.jlens.study;

import dev.jlens.api.FeaturePair;
import dev.jlens.api.FeatureStats;
import dev.jlens.api.Verdict;
import dev.jlens.formats.FormatException;
import dev.jlens.formats.GgufFile;
import dev.jlens.llama.Context;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * results.json: everything the experiment found, deterministic for a given config (no timings or dates). The records a
 * user sees are the API's ({@link FeatureStats}, {@link FeaturePair}, {@link Verdict}): analysis, report, JSON and API
 * share them; the rest (config, significance, anchors, facet split, point cloud) is the study's own.
 */
public record ExperimentResult(Config config, SaeResult coarse, SaeResult fine, CrossMap crossmap, List<PcaPoint> pointCloud,
                               double[] pcaExplainedVariance, Verdict verdict) {

    public record SaeInfo(String id, String path, String sha256, int dIn, int dSae, String neuronpediaId, double decoderNormMin,
                          double decoderNormMax) {}

    public record Config(String model, String modelSha256, String architecture, int layer, String hookName, SaeInfo coarseSae,
                         SaeInfo fineSae, String targetSet, int targetPrompts, String controlSet, int controlPrompts, String aggregate,
                         double minCosine, double minCorrelation, int minSubFeatures, int anchors, int fineCandidates, double minActivation,
                         int permutations, long seed, String encoder, String llamaCppCommit, String activationCacheKey,
                         Numerics numerics) {}

    /**
     * The numerics the activations were computed with (null in results.json files written before they were recorded).
     *
     * @param kvCacheType    {@code f32} (the default) or {@code f16} ({@code --fast-kv}): llama.cpp's K/V cache type
     * @param flashAttention whether llama.cpp's flash attention ran (f16 internally on CPU); off by default
     * @param weightType     the storage types of the model file's matrices, most bytes first, joined with {@code +}
     *                       (e.g. {@code F32}, {@code Q8_0}, {@code Q4_K+Q6_K}); with quantized weights ggml also
     *                       quantizes each matmul's input, so this bounds the capture's precision as much as the cache
     */
    public record Numerics(String kvCacheType, boolean flashAttention, String weightType) {
        public Numerics {
            Objects.requireNonNull(kvCacheType, "kvCacheType");
            Objects.requireNonNull(weightType, "weightType");
        }

        /** The numerics of a capture with these context parameters from this model file (read in Java, not by llama.cpp). */
        public static Numerics of(Context.Params params, Path modelFile) throws IOException {
            return new Numerics(params.f32KvCache() ? "f32" : "f16", params.flashAttn(), weightTypes(modelFile));
        }

        /** The GGML types of the file's tensors of rank &ge; 2 (the matrices), by total bytes, largest first. */
        static String weightTypes(Path modelFile) throws IOException {
            Map<String, Long> bytes = new HashMap<>();
            try (GgufFile f = GgufFile.open(modelFile)) {
                for (GgufFile.TensorInfo t : f.tensors()) {
                    if (t.ne().length >= 2) bytes.merge(t.type().name(), t.nbytes(), Long::sum);
                }
            }
            if (bytes.isEmpty()) throw new FormatException(modelFile, "tensors", "no matrix in the file");
            return bytes.entrySet().stream()
                    .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                    .map(Map.Entry::getKey).collect(Collectors.joining("+"));
        }
    }

    /** ContrastStats.Significance: how low p and q can go for these group sizes, and the permutation check. */
    public record Significance(String test, double alpha, int tested, double smallestP, double smallestQ, int permutations,
                               double permutationSmallestP, int significant, int confirmedByPermutation) {}

    public record SaeResult(int activeFeatures, long activations, Significance significance, List<FeatureStats> topBySelectivity,
                            List<FeatureStats> topByEffectSize) {}

    /**
     * analysis.FacetSplit.Row: a fine feature that fires on a subset of the target prompts and leans to an anchor's
     * decoder direction, with the facet most of those prompts carry ({@code mixed} when none holds half of them).
     */
    public record FacetSplitRow(int anchor, int fine, String facet, double facetShare, double facetCoverage, double fireRateTarget,
                                double fireRateControl, double meanWhenFiring, double cosine, double correlation,
                                double targetCorrelation) {}

    public record Anchor(int anchor, int matches, int coOccurring, int geometricOnly, Integer strongestFine, Double strongestCosine,
                         Double strongestCorrelation) {}

    /**
     * @param targetCorrelation anchors x fines Pearson correlation over the target prompts only
     * @param facetSplit        per anchor, the fine features splitting off a facet (not part of the verdict)
     */
    public record CrossMap(int[] anchors, int[] fines, double[][] cosine, double[][] correlation, List<FeaturePair> pairs, List<Anchor> anchorSummaries,
                           double[][] targetCorrelation, List<FacetSplitRow> facetSplit) {}

    public record PcaPoint(String resolution, int feature, double x, double y, double z) {}
}
