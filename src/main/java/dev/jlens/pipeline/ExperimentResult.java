package dev.jlens.pipeline;

import java.util.List;
import java.util.Map;

/** results.json: everything the experiment found, deterministic for a given config (no timings or dates). */
public record ExperimentResult(Config config, SaeResult coarse, SaeResult fine, CrossMap crossmap, List<PcaPoint> pointCloud,
                               double[] pcaExplainedVariance, Verdict verdict) {

    public record SaeInfo(String id, String path, String sha256, int dIn, int dSae, String neuronpediaId, double decoderNormMin,
                          double decoderNormMax) {}

    public record Config(String model, String modelSha256, String architecture, int layer, String hookName, SaeInfo coarseSae,
                         SaeInfo fineSae, String targetSet, int targetPrompts, String controlSet, int controlPrompts, String aggregate,
                         double minCosine, double minCorrelation, int minSubFeatures, int anchors, int fineCandidates, double minActivation,
                         int permutations, long seed, String encoder, String llamaCppCommit, String activationCacheKey) {}

    public record TopPrompt(int prompt, String text, String facet, double value) {}

    public record Feature(int feature, double meanTarget, double meanControl, double fireRateTarget, double fireRateControl,
                          double selectivity, double auroc, double pValue, double qValue, double effectSize, String likelyFacet,
                          Map<String, Double> meanByFacet, List<TopPrompt> topPrompts, String neuronpediaUrl) {}

    public record SaeResult(int activeFeatures, long activations, List<Feature> topBySelectivity, List<Feature> topByEffectSize) {}

    public record Pair(int anchor, int fine, double correlation, double cosine, String classification) {}

    public record Anchor(int anchor, int matches, int coOccurring, int geometricOnly, Integer strongestFine, Double strongestCosine,
                         Double strongestCorrelation) {}

    public record CrossMap(int[] anchors, int[] fines, double[][] cosine, double[][] correlation, List<Pair> pairs, List<Anchor> anchorSummaries) {}

    public record PcaPoint(String resolution, int feature, double x, double y, double z) {}

    public record Verdict(String decision, int anchor, int matches, int required, String reason) {}
}
