package dev.jlens.study;

import dev.jlens.api.FeaturePair;
import dev.jlens.api.FeatureStats;
import dev.jlens.api.Verdict;
import dev.jlens.activations.Numerics;

import java.util.List;

/**
 * results.json: everything the experiment found, deterministic for a given config (no timings or dates). The records a
 * user sees are the API's ({@link FeatureStats}, {@link FeaturePair}, {@link Verdict}): analysis, report, JSON and API
 * share them; the rest (config, significance, anchors, facet split, point cloud) is the study's own.
 */
public record ExperimentResult(Config config, SaeResult coarse, SaeResult fine, CrossMap crossmap, List<PcaPoint> pointCloud,
                               double[] pcaExplainedVariance, Verdict verdict) {

    /**
     * One SAE as the run used it (issue 16): what was given, its file hash and shape, and what its config says it was
     * trained on.
     *
     * @param architecture {@code jumprelu}, {@code standard} or {@code topk}; null in results.json written before it was
     *                     recorded (as the three below)
     * @param hookName     the hook it reads, e.g. {@code blocks.12.hook_resid_post} (the run refuses any other)
     * @param modelName    the model it was trained on (its config's model_name), or null when it names none
     * @param modelMatch   that model against the GGUF's general.name/basename: {@code MATCH}, {@code INSTRUCTION_TUNED_MODEL},
     *                     {@code DIFFERENT} (the run warns, the numbers may mean nothing) or {@code UNKNOWN} (either name
     *                     missing, or the model file not on this machine)
     */
    public record SaeInfo(String id, String path, String sha256, int dIn, int dSae, String neuronpediaId, double decoderNormMin,
                          double decoderNormMax, String architecture, String hookName, String modelName, String modelMatch) {}

    public record Config(String model, String modelSha256, String architecture, int layer, String hookName, SaeInfo coarseSae,
                         SaeInfo fineSae, String targetSet, int targetPrompts, String controlSet, int controlPrompts, String aggregate,
                         double minCosine, double minCorrelation, int minSubFeatures, int anchors, int fineCandidates, double minActivation,
                         int permutations, long seed, String encoder, String llamaCppCommit, String activationCacheKey,
                         Numerics numerics) {}

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
