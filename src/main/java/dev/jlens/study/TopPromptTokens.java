package dev.jlens.study;

import dev.jlens.activations.ActivationSource;
import dev.jlens.activations.Captured;
import dev.jlens.activations.ShardMeta;
import dev.jlens.activations.TokenizedPrompts;
import dev.jlens.api.FeatureStats;
import dev.jlens.llama.Model;
import dev.jlens.sae.EncoderOptions;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SparseCodes;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The per-token activations of each feature's top prompts, for the report's token shading: the top prompts' residual
 * rows are read back from the activation shards and encoded again with the same SAE, encoder and 256-row blocks as
 * the aggregation ({@link Aggregator#run}), so a prompt's MAX aggregate is exactly the largest of its token values.
 * The BOS row (by the capture's BOS rule, {@link TokenizedPrompts#isBosRow}) is left out: never shaded, never counted.
 * Token text comes from the model's vocabulary when the model file is on this machine, else each token reads
 * {@code <id>}.
 */
public final class TopPromptTokens implements AutoCloseable {
    /** Rows per encode call: the aggregation's block, so the encoder sees the same inputs. */
    static final int BLOCK = 256;

    private final ActivationSource source;
    private final int bosTokenId;
    private final ExperimentConfig cfg;
    private final Path modelFile;
    private Model model;
    private boolean modelTried;

    private TopPromptTokens(ActivationSource source, int bosTokenId, ExperimentConfig cfg, Path modelFile) {
        this.source = source;
        this.bosTokenId = bosTokenId;
        this.cfg = cfg;
        this.modelFile = modelFile;
    }

    /** For the prompts of a capture; the model's vocabulary is loaded on first use and released by {@link #close}. */
    public static TopPromptTokens open(ExperimentConfig cfg, Captured cap) {
        Path model = null;
        try {
            model = Path.of(cap.model());
        } catch (RuntimeException e) {
            // not a path on this machine: tokens read as ids
        }
        return new TopPromptTokens(cap.source(), cap.bosTokenId(), cfg, model);
    }

    /** {@code result} with every top prompt of both of its tables carrying its tokens and this SAE's values on them. */
    public ExperimentResult.SaeResult annotate(ExperimentResult.SaeResult result, Sae sae) throws IOException {
        TreeSet<Integer> prompts = new TreeSet<>();
        for (List<FeatureStats> table : List.of(result.topBySelectivity(), result.topByEffectSize())) {
            for (FeatureStats f : table) for (FeatureStats.TopPrompt p : f.topPrompts()) prompts.add(p.prompt());
        }
        if (prompts.isEmpty()) return result;
        Map<Integer, PromptCodes> codes = encode(prompts, sae);
        return new ExperimentResult.SaeResult(result.activeFeatures(), result.activations(), result.significance(),
                annotate(result.topBySelectivity(), codes), annotate(result.topByEffectSize(), codes));
    }

    private List<FeatureStats> annotate(List<FeatureStats> table, Map<Integer, PromptCodes> codes) {
        List<FeatureStats> out = new ArrayList<>(table.size());
        for (FeatureStats f : table) {
            List<FeatureStats.TopPrompt> top = new ArrayList<>(f.topPrompts().size());
            for (FeatureStats.TopPrompt p : f.topPrompts()) {
                PromptCodes c = codes.get(p.prompt());
                if (c == null) throw new IllegalStateException("prompt " + p.prompt() + " is in no activation shard");
                top.add(p.withTokens(c.texts(), c.values(f.feature())));
            }
            out.add(new FeatureStats(f.feature(), f.meanTarget(), f.meanControl(), f.fireRateTarget(), f.fireRateControl(), f.selectivity(),
                    f.auroc(), f.pValue(), f.qValue(), f.effectSize(), f.permutationPValue(), f.meanTargetWhenFiring(), f.likelyFacet(),
                    f.meanByFacet(), top, f.neuronpediaUrl()));
        }
        return out;
    }

    /** One prompt's non-BOS tokens with their sparse codes. */
    record PromptCodes(List<String> texts, List<int[]> indices, List<float[]> values) {
        List<Double> values(int feature) {
            List<Double> v = new ArrayList<>(indices.size());
            for (int t = 0; t < indices.size(); t++) {
                int[] idx = indices.get(t);
                double x = 0;
                for (int i = 0; i < idx.length; i++) if (idx[i] == feature) x = values.get(t)[i];
                v.add(x);
            }
            return v;
        }
    }

    /** Encodes the blocks of rows that hold the given prompts, shard by shard, as the aggregation blocks them. */
    Map<Integer, PromptCodes> encode(TreeSet<Integer> prompts, Sae sae) throws IOException {
        Map<Integer, PromptCodes> out = new HashMap<>();
        try (SaeEncoder enc = sae.encoder(cfg.encoder(), EncoderOptions.defaults().withThreads(cfg.threads()))) {
            int dIn = sae.dIn();
            for (int s = 0; s < source.shards(); s++) {
                ShardMeta meta = source.meta(s);
                if (prompts.subSet(meta.promptFrom(), meta.promptTo()).isEmpty()) continue;
                source.read(s, (m, x) -> {
                    long row = 0;
                    Map<Long, SparseCodes> blocks = new HashMap<>();
                    for (int p = m.promptFrom(); p < m.promptTo(); p++) {
                        int[] toks = m.tokens().get(p - m.promptFrom());
                        if (prompts.contains(p)) {
                            List<String> texts = new ArrayList<>();
                            List<int[]> idx = new ArrayList<>();
                            List<float[]> val = new ArrayList<>();
                            for (int k = 0; k < toks.length; k++) {
                                if (TokenizedPrompts.isBosRow(toks, k, bosTokenId)) continue;
                                long r = row + k;
                                long b0 = r / BLOCK * BLOCK;
                                SparseCodes c = blocks.computeIfAbsent(b0, b -> {
                                    int n = (int) Math.min(BLOCK, m.rows() - b);
                                    return enc.encode(x.asSlice(b * dIn * 4, (long) n * dIn * 4), n);
                                });
                                idx.add(c.indices((int) (r - b0)));
                                val.add(c.values((int) (r - b0)));
                                texts.add(text(toks[k]));
                            }
                            out.put(p, new PromptCodes(texts, idx, val));
                        }
                        row += toks.length;
                    }
                });
            }
        }
        return out;
    }

    private String text(int token) {
        if (!modelTried) {
            modelTried = true;
            if (modelFile != null && Files.isRegularFile(modelFile)) {
                try {
                    model = Model.load(modelFile);
                } catch (RuntimeException e) {
                    model = null; // not loadable here: tokens read as ids
                }
            }
        }
        if (model != null && token >= 0 && token < model.vocab().size()) return model.vocab().piece(token);
        return "<" + token + ">";
    }

    @Override
    public void close() {
        if (model != null) model.close();
        model = null;
    }
}
