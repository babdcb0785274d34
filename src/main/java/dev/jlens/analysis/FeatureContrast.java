package dev.jlens.analysis;

/**
 * Target-vs-control statistics of one SAE feature. See {@link ContrastStats} for the definitions.
 *
 * <p>An internal computation type that users never see: {@link ContrastStats} computes one for every feature of an SAE
 * (262,144 for the largest Gemma Scope width) so that the study can rank them, and only the features a run reports
 * become the result model's {@code api.FeatureStats}, which copies these eleven numbers unchanged (same names, same
 * definitions) and adds what needs the prompts and the SAE's metadata: top prompts with their tokens, facet means, the
 * likely facet, the Neuronpedia link. Folding the two would either compute those extras for every feature or leave
 * them null in the type users read, so the statistics stay here, defined once, and are copied in one place
 * ({@code study.ConceptExperiment}) into the type that results.json, the CSVs, the report and the API share.
 *
 * @param feature SAE feature index
 * @param meanTarget mean activation over target prompts (zeros included)
 * @param meanControl mean activation over control prompts (zeros included)
 * @param fireRateTarget fraction of target prompts with activation {@code > 0}
 * @param fireRateControl fraction of control prompts with activation {@code > 0}
 * @param selectivity meanTarget / (meanTarget + meanControl), 0 when both means are 0
 * @param auroc Mann-Whitney U / (n_target n_control), ties counted 1/2
 * @param pValue two-sided Mann-Whitney U p-value ({@link MannWhitney}; exact without ties in small samples,
 *               tie-corrected normal approximation otherwise)
 * @param qValue Benjamini-Hochberg adjusted {@code pValue} over all tested features
 * @param effectSize Cohen's d: (meanTarget - meanControl) / pooled SD
 * @param permutationPValue the check: two-sided permutation p-value of the difference of means,
 *                          (count + 1) / (n_perm + 1), never below 1 / (n_perm + 1)
 */
public record FeatureContrast(int feature, double meanTarget, double meanControl, double fireRateTarget,
                              double fireRateControl, double selectivity, double auroc, double pValue,
                              double qValue, double effectSize, double permutationPValue) {
    public FeatureContrast {
        if (feature < 0) throw new IllegalArgumentException("feature must be >= 0, got " + feature);
        checkUnit("fireRateTarget", fireRateTarget);
        checkUnit("fireRateControl", fireRateControl);
        checkUnit("selectivity", selectivity);
        checkUnit("auroc", auroc);
        checkUnit("pValue", pValue);
        checkUnit("qValue", qValue);
        checkUnit("permutationPValue", permutationPValue);
        if (!Double.isFinite(meanTarget) || !Double.isFinite(meanControl)) {
            throw new IllegalArgumentException("feature " + feature + ": non-finite mean " + meanTarget + " / " + meanControl);
        }
        if (Double.isNaN(effectSize)) {
            throw new IllegalArgumentException("feature " + feature + ": effect size is NaN");
        }
    }

    private static void checkUnit(String name, double v) {
        if (!(v >= 0.0 && v <= 1.0)) throw new IllegalArgumentException(name + " must be in [0, 1], got " + v);
    }
}
