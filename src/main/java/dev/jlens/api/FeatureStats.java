package dev.jlens.api;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One feature's contrast statistics, target vs control prompts, on per-prompt aggregates (zeros included), with the
 * prompts it fires on most: the one definition that results.json, the feature CSVs, the report's tables and the API
 * ({@link Experiment.Results}, {@link Experiment.Contrast}) share. Immutable.
 *
 * @param feature              feature index in its SAE, >= 0
 * @param meanTarget           mean activation over the target prompts
 * @param meanControl          mean activation over the control prompts
 * @param fireRateTarget       fraction of target prompts with activation {@code > 0}
 * @param fireRateControl      fraction of control prompts with activation {@code > 0}
 * @param selectivity          meanTarget / (meanTarget + meanControl), in [0, 1]; 0 when both means are 0
 * @param auroc                Mann-Whitney U / (n_target * n_control), ties counted 1/2
 * @param pValue               two-sided Mann-Whitney U p-value (exact without ties in small samples, tie-corrected normal
 *                             approximation otherwise; as scipy.stats.mannwhitneyu computes it)
 * @param qValue               Benjamini-Hochberg adjusted {@code pValue} over all active features of the SAE
 * @param effectSize           Cohen's d: (meanTarget - meanControl) / pooled standard deviation
 * @param permutationPValue    the check: two-sided permutation p-value of the difference of means,
 *                             (count + 1) / (permutations + 1), never below 1 / (permutations + 1)
 * @param meanTargetWhenFiring mean over the target prompts it fires on (meanTarget / fireRateTarget); NaN (null in
 *                             JSON) when it fires on none
 * @param likelyFacet          the target facet it fires for when one dominates ({@code mixed} or {@code none} otherwise);
 *                             null when the target prompts carry no facets
 * @param meanByFacet          its mean activation per target facet (empty without facets)
 * @param topPrompts           the prompts it fires on most, strongest first (at most 5 in a run's results)
 * @param neuronpediaUrl       the feature's Neuronpedia page, or null when the SAE has no neuronpedia_id
 */
public record FeatureStats(int feature, double meanTarget, double meanControl, double fireRateTarget, double fireRateControl,
                           double selectivity, double auroc, double pValue, double qValue, double effectSize,
                           double permutationPValue, double meanTargetWhenFiring, String likelyFacet,
                           Map<String, Double> meanByFacet, List<TopPrompt> topPrompts, String neuronpediaUrl) {
    /** Checks the index and copies the top prompts. */
    public FeatureStats {
        if (feature < 0) throw new IllegalArgumentException("feature index must be >= 0, got " + feature);
        meanByFacet = meanByFacet == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(meanByFacet));
        topPrompts = List.copyOf(Objects.requireNonNull(topPrompts, "topPrompts"));
    }

    /**
     * A prompt the feature fires on, with its activation there and on each of its tokens.
     *
     * @param prompt      index of the prompt (target prompts first, then control)
     * @param text        the prompt (untrusted text)
     * @param facet       its facet, or null
     * @param value       the feature's aggregated activation on it
     * @param tokens      the prompt's tokens as text (untrusted), BOS left out; empty when not computed
     * @param tokenValues the feature's activation on each of {@code tokens} (0 where it does not fire), same length
     */
    public record TopPrompt(int prompt, String text, String facet, double value, List<String> tokens, List<Double> tokenValues) {
        /** Checks the text is given and that tokens and values pair up; null lists (older results.json) read as empty. */
        public TopPrompt {
            Objects.requireNonNull(text, "text");
            tokens = tokens == null ? List.of() : List.copyOf(tokens);
            tokenValues = tokenValues == null ? List.of() : List.copyOf(tokenValues);
            if (tokens.size() != tokenValues.size()) {
                throw new IllegalArgumentException("prompt " + prompt + ": " + tokens.size() + " tokens but " + tokenValues.size() + " token values");
            }
        }

        /**
         * A top prompt without per-token values.
         *
         * @param prompt index of the prompt (target prompts first, then control)
         * @param text   the prompt (untrusted text), not null
         * @param facet  its facet, or null
         * @param value  the feature's aggregated activation on it
         * @throws NullPointerException when {@code text} is null
         */
        public TopPrompt(int prompt, String text, String facet, double value) {
            this(prompt, text, facet, value, List.of(), List.of());
        }

        /**
         * This prompt with its per-token activations.
         *
         * @param tokens      the prompt's tokens as text (untrusted), BOS left out; null for none
         * @param tokenValues the feature's activation on each of {@code tokens}, same length; null for none
         * @return a new top prompt with the same index, text, facet and value
         * @throws IllegalArgumentException when the two lists differ in length
         */
        public TopPrompt withTokens(List<String> tokens, List<Double> tokenValues) {
            return new TopPrompt(prompt, text, facet, value, tokens, tokenValues);
        }
    }
}
