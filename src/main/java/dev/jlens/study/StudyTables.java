package dev.jlens.study;

import dev.jlens.analysis.ContrastStats;
import dev.jlens.analysis.FacetProfile;
import dev.jlens.analysis.FacetSplit;
import dev.jlens.analysis.FeatureContrast;
import dev.jlens.analysis.FeatureTable;
import dev.jlens.analysis.PromptSet;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.Csv;
import dev.jlens.formats.CsrNpz;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The tables of a study run beside results.json (docs/outputs.md): per SAE, every active feature with its rankings as
 * columns ({@code features_<sae>.csv}) and the prompt x feature matrix the statistics were computed from
 * ({@code prompt_features_<sae>.npz}, scipy's CSR layout), and the prompts that are its rows ({@code prompts.csv}).
 */
final class StudyTables {
    private StudyTables() {}

    /**
     * One SAE of a run as the analysis saw it.
     *
     * @param table         per-prompt aggregated activations (one row per prompt, as the study aggregated them)
     * @param stats         contrast statistics of every active feature
     * @param dSae          SAE width: the matrix's column count
     * @param minActivation the run's floor on mean_target for the selectivity ranking
     * @param neuronpediaId the SAE's Neuronpedia id, or null
     */
    record Side(FeatureTable table, List<FeatureContrast> stats, int dSae, double minActivation, String neuronpediaId) {
        Side {
            Objects.requireNonNull(table, "table");
            Objects.requireNonNull(stats, "stats");
        }
    }

    /** What the tables of a run come from: its prompts (target first) and both SAEs' sides. */
    record Run(List<PromptSet.Prompt> prompts, int nTarget, Side coarse, Side fine) {}

    /** The CSV header of the feature tables; docs/outputs.md says what each column is. */
    static final List<String> FEATURE_COLUMNS = List.of("feature", "rank_selectivity", "rank_effect_size", "mean_target", "mean_control",
            "fire_rate_target", "fire_rate_control", "selectivity", "auroc", "p_value", "q_value", "effect_size", "permutation_p_value",
            "mean_target_when_firing", "likely_facet", "neuronpedia");

    /**
     * Every active feature (fired on at least one prompt), one row each: rank_selectivity is its place in the study's
     * selectivity ranking (ContrastStats.topBySelectivity over all features: selectivity, then mean_target, descending,
     * then feature; empty when mean_target is below the run's minimum activation, which that ranking leaves out),
     * rank_effect_size its place in the effect-size ranking (ContrastStats.topByEffectSize). Rows in rank_selectivity
     * order, the unranked after them by feature, so the first rows are results.json's top_by_selectivity.
     */
    static void writeFeatures(Path file, Side s) throws IOException {
        List<FeatureContrast> bySel = ContrastStats.topBySelectivity(s.stats(), s.minActivation(), s.stats().size());
        List<FeatureContrast> byEff = ContrastStats.topByEffectSize(s.stats(), s.stats().size());
        Map<Integer, Integer> rankSel = new HashMap<>(), rankEff = new HashMap<>();
        for (int i = 0; i < bySel.size(); i++) rankSel.put(bySel.get(i).feature(), i + 1);
        for (int i = 0; i < byEff.size(); i++) rankEff.put(byEff.get(i).feature(), i + 1);
        Map<Integer, String> facet = new HashMap<>();
        if (!s.table().targetFacets().isEmpty()) {
            int[] ids = s.stats().stream().mapToInt(FeatureContrast::feature).toArray();
            for (FacetProfile fp : FacetProfile.compute(s.table(), ids, FacetProfile.DEFAULT_DOMINANCE)) facet.put(fp.feature(), fp.likelyFacet());
        }
        List<FeatureContrast> rows = new ArrayList<>(s.stats());
        rows.sort(Comparator.comparingInt((FeatureContrast f) -> rankSel.getOrDefault(f.feature(), Integer.MAX_VALUE))
                .thenComparingInt(FeatureContrast::feature));
        StringBuilder b = new StringBuilder(Csv.row(FEATURE_COLUMNS.toArray()));
        String np = s.neuronpediaId();
        for (FeatureContrast f : rows) {
            b.append(Csv.row(f.feature(), rankSel.get(f.feature()), rankEff.get(f.feature()), f.meanTarget(), f.meanControl(),
                    f.fireRateTarget(), f.fireRateControl(), f.selectivity(), f.auroc(), f.pValue(), f.qValue(), f.effectSize(),
                    f.permutationPValue(), FacetSplit.meanWhenFiring(f), facet.get(f.feature()),
                    np == null ? null : "https://www.neuronpedia.org/" + np + "/" + f.feature()));
        }
        AtomicFiles.writeStream(file, os -> os.write(b.toString().getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * The prompt x feature matrix of {@code table}: row {@code p} is prompt {@code p} (prompts.csv's row: the target
     * prompts, then the control prompts, each in their file's order), column {@code f} feature {@code f} of the SAE,
     * the value its per-prompt aggregate (the run's aggregate over the prompt's non-BOS tokens) where it is above 0.
     */
    static CsrNpz matrix(FeatureTable table, int prompts, int dSae) {
        int[] count = new int[prompts];
        int[] active = table.activeFeatures();
        for (int f : active) for (int row : table.firedRows(f)) count[promptOf(table, row, prompts)]++;
        int[] indptr = new int[prompts + 1];
        for (int p = 0; p < prompts; p++) indptr[p + 1] = indptr[p] + count[p];
        int[] indices = new int[indptr[prompts]];
        float[] data = new float[indices.length];
        int[] at = java.util.Arrays.copyOf(indptr, prompts);
        for (int f : active) { // features ascending, so each row's indices come out sorted
            if (f >= dSae) throw new IllegalArgumentException("feature " + f + " is outside the SAE's " + dSae + " features");
            int[] rows = table.firedRows(f);
            float[] vals = table.firedValues(f);
            for (int k = 0; k < rows.length; k++) {
                int p = promptOf(table, rows[k], prompts);
                indices[at[p]] = f;
                data[at[p]++] = vals[k];
            }
        }
        return new CsrNpz(prompts, dSae, indptr, indices, data);
    }

    private static int promptOf(FeatureTable table, int row, int prompts) {
        int p = table.promptIndex(row);
        if (p < 0 || p >= prompts) throw new IllegalArgumentException("prompt index " + p + " outside the run's " + prompts + " prompts");
        return p;
    }

    /** prompts.csv: {@code row,id,label,facet,text}; id is {@code target-<i>} or {@code control-<i>}, i the place in its set. */
    static void writePrompts(Path file, List<PromptSet.Prompt> prompts, int nTarget) throws IOException {
        StringBuilder b = new StringBuilder(Csv.row("row", "id", "label", "facet", "text"));
        for (int p = 0; p < prompts.size(); p++) {
            boolean target = p < nTarget;
            String label = target ? "target" : "control";
            b.append(Csv.row(p, label + "-" + (target ? p : p - nTarget), label, prompts.get(p).facet(), prompts.get(p).text()));
        }
        AtomicFiles.writeStream(file, os -> os.write(b.toString().getBytes(StandardCharsets.UTF_8)));
    }
}
