package dev.jlens.toy.planted;

import dev.jlens.analysis.ContrastStats;
import dev.jlens.analysis.CrossResolutionMap;
import dev.jlens.analysis.FacetProfile;
import dev.jlens.analysis.FeatureContrast;
import dev.jlens.analysis.FeatureTable;
import dev.jlens.analysis.Label;
import dev.jlens.analysis.PromptActivations;
import dev.jlens.analysis.PromptSet;
import dev.jlens.reference.Gemma2Reference;
import dev.jlens.sae.EncoderOptions;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeEncoders;
import dev.jlens.sae.SparseCodes;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * The France experiment in pure Java (no llama.cpp): tokenize, residual after layer 12 by
 * {@link Gemma2Reference}, encode with both SAEs, aggregate MAX over non-BOS tokens, then contrast
 * statistics, cross-resolution map and facet profiles, as the lead's experiment does.
 */
final class PlantedPipeline {
    static final int ANCHORS = 5;
    static final int FINES = 50;
    /** Minimum mean activation on France prompts for a feature to rank (filters near-silent random features). */
    static final double MIN_MEAN_TARGET = 0.5;

    record Outcome(FeatureTable coarse, FeatureTable fine, List<FeatureContrast> coarseStats, List<FeatureContrast> fineStats,
                   List<FeatureContrast> anchors, List<FeatureContrast> fines, CrossResolutionMap.Result map,
                   List<FacetProfile> profiles) {}

    private PlantedPipeline() {}

    /** Runs every {@code stride}-th France and neutral prompt. */
    static Outcome run(PlantedFrance.Model model, PlantedFrance.Generated files, int stride) throws IOException {
        PromptSet france = PromptSet.builtin("france");
        PromptSet neutral = PromptSet.builtin("neutral");
        List<PromptSet.Prompt> prompts = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        List<Label> labels = new ArrayList<>();
        for (int i = 0; i < france.size(); i += stride) {
            prompts.add(france.prompts().get(i));
            ids.add(i);
            labels.add(Label.TARGET);
        }
        for (int i = 0; i < neutral.size(); i += stride) {
            prompts.add(neutral.prompts().get(i));
            ids.add(france.size() + i);
            labels.add(Label.CONTROL);
        }
        Gemma2Reference ref = new Gemma2Reference(model.weights());
        float[][][] resid = IntStream.range(0, prompts.size()).parallel()
                .mapToObj(p -> ref.residualAfterLayer(model.vocabulary().encode(prompts.get(p).text()), PlantedFrance.HOOK_LAYER))
                .toArray(float[][][]::new);
        int d = model.config().nEmbd();
        int[] start = new int[prompts.size() + 1];
        for (int p = 0; p < prompts.size(); p++) start[p + 1] = start[p] + resid[p].length - 1; // BOS dropped
        float[] x = new float[start[prompts.size()] * d];
        for (int p = 0; p < prompts.size(); p++) {
            for (int t = 1; t < resid[p].length; t++) System.arraycopy(resid[p][t], 0, x, (start[p] + t - 1) * d, d);
        }
        try (Sae coarseSae = Sae.loadGemmaScopeNpz(files.coarseSae(), PlantedFrance.coarseConfig());
             Sae fineSae = Sae.loadGemmaScopeNpz(files.fineSae(), PlantedFrance.fineConfig())) {
            FeatureTable coarse = table(coarseSae, x, start, prompts, ids, labels);
            FeatureTable fine = table(fineSae, x, start, prompts, ids, labels);
            List<FeatureContrast> cs = ContrastStats.compute(coarse, new ContrastStats.Options(50, 1));
            List<FeatureContrast> fs = ContrastStats.compute(fine, new ContrastStats.Options(50, 1));
            List<FeatureContrast> anchors = ContrastStats.topBySelectivity(cs, MIN_MEAN_TARGET, ANCHORS);
            List<FeatureContrast> fines = ContrastStats.topBySelectivity(fs, MIN_MEAN_TARGET, FINES);
            int[] a = anchors.stream().mapToInt(FeatureContrast::feature).toArray();
            int[] f = fines.stream().mapToInt(FeatureContrast::feature).toArray();
            CrossResolutionMap.Result map = CrossResolutionMap.compute(a, f, coarse, fine, coarseSae::decoderRow,
                    fineSae::decoderRow, CrossResolutionMap.Thresholds.DEFAULT);
            List<FacetProfile> profiles = FacetProfile.compute(fine, f, FacetProfile.DEFAULT_DOMINANCE);
            return new Outcome(coarse, fine, cs, fs, anchors, fines, map, profiles);
        }
    }

    private static FeatureTable table(Sae sae, float[] x, int[] start, List<PromptSet.Prompt> prompts, List<Integer> ids,
                                      List<Label> labels) {
        FeatureTable table = new FeatureTable();
        try (SaeEncoder enc = SaeEncoders.create(sae, "vector", EncoderOptions.defaults())) {
            SparseCodes codes = enc.encode(x, start[prompts.size()]);
            for (int p = 0; p < prompts.size(); p++) {
                TreeMap<Integer, Float> max = new TreeMap<>();
                for (int t = start[p]; t < start[p + 1]; t++) {
                    int[] idx = codes.indices(t);
                    float[] val = codes.values(t);
                    for (int i = 0; i < idx.length; i++) max.merge(idx[i], val[i], Math::max);
                }
                int[] fi = max.keySet().stream().mapToInt(Integer::intValue).toArray();
                float[] fv = new float[fi.length];
                for (int i = 0; i < fi.length; i++) fv[i] = max.get(fi[i]);
                String facet = labels.get(p) == Label.TARGET ? prompts.get(p).facet() : null;
                table.add(new PromptActivations(ids.get(p), labels.get(p), facet, fi, fv));
            }
        }
        return table;
    }
}
