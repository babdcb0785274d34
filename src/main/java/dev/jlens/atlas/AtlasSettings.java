package dev.jlens.atlas;

import dev.jlens.api.EncoderKind;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Settings of one atlas run, validated when built (a bad value fails before any file is read).
 *
 * @param layer            residual stream tap: the output of this block ({@code blocks.L.hook_resid_post})
 * @param contextLength    tokens per context, BOS included (SAEDashboard's default is 128)
 * @param batchTokens      tokens decoded together (at least contextLength): each shard is packed greedily, in
 *                         order, into batches of at most this many tokens and {@link #MAX_BATCH_CONTEXTS} contexts,
 *                         so a batch's composition depends only on the shard, never on how shards were distributed
 * @param contextsPerShard contexts per checkpointed shard: the unit of resume and of distribution
 * @param topK             top-activating contexts kept per feature
 * @param quantileIntervals equal-width activation intervals of [0, max] with sampled examples
 * @param quantileExamples examples shown per interval
 * @param sampleSize       contexts per feature in the deterministic uniform sample the intervals draw from
 * @param windowBefore     tokens shown before an example's max token
 * @param windowAfter      tokens shown after it
 * @param logitTokens      tokens in each logit-lens list
 * @param threads          CPU threads for the model
 * @param encoder          SAE encoder: auto, vector, ggml or scalar ({@code ggml-gpu} is refused: the atlas runs on the CPU)
 */
public record AtlasSettings(int layer, int contextLength, int batchTokens, int contextsPerShard, int topK,
                            int quantileIntervals, int quantileExamples, int sampleSize, int windowBefore,
                            int windowAfter, int logitTokens, int threads, EncoderKind encoder) {
    /** Most contexts (sequences) in one decode batch. */
    public static final int MAX_BATCH_CONTEXTS = 64;

    public static final Set<EncoderKind> ENCODERS = Set.of(EncoderKind.AUTO, EncoderKind.VECTOR, EncoderKind.GGML, EncoderKind.SCALAR);

    public AtlasSettings {
        check("--layer", layer, 0, 1024);
        check("--context", contextLength, 2, 8192);
        check("--batch-tokens", batchTokens, 2, 1 << 16);
        if (batchTokens < contextLength) {
            throw new IllegalArgumentException("--batch-tokens " + batchTokens + " must be at least --context " + contextLength + " (a batch holds whole contexts)");
        }
        check("--shard-contexts", contextsPerShard, 1, 1 << 20);
        check("--top", topK, 1, 1000);
        check("--quantile-intervals", quantileIntervals, 1, 100);
        check("--quantile-examples", quantileExamples, 0, 100);
        check("--sample", sampleSize, 0, 1000);
        check("--window-before", windowBefore, 0, 8192);
        check("--window-after", windowAfter, 0, 8192);
        check("--logit-tokens", logitTokens, 1, 1000);
        check("--threads", threads, 1, 4096);
        java.util.Objects.requireNonNull(encoder, "encoder");
        if (!ENCODERS.contains(encoder)) {
            throw new IllegalArgumentException("--encoder \"" + encoder + "\" is not one of auto, vector, ggml, scalar");
        }
    }

    private static void check(String option, int v, int lo, int hi) {
        if (v < lo || v > hi) throw new IllegalArgumentException(option + " must be in [" + lo + ", " + hi + "], got " + v);
    }

    /** The defaults: layer 12, 128-token contexts, 512-token batches, 256 contexts per shard, top 20, 5 x 5 quantile examples. */
    public static AtlasSettings defaults(int layer, int threads) {
        return new AtlasSettings(layer, 128, 512, 256, 20, 5, 5, 64, 24, 8, 10, threads, EncoderKind.AUTO);
    }

    public AtlasSettings withContextLength(int n) {
        return new AtlasSettings(layer, n, batchTokens, contextsPerShard, topK, quantileIntervals, quantileExamples, sampleSize, windowBefore, windowAfter, logitTokens, threads, encoder);
    }

    public AtlasSettings withBatching(int tokens, int perShard) {
        return new AtlasSettings(layer, contextLength, tokens, perShard, topK, quantileIntervals, quantileExamples, sampleSize, windowBefore, windowAfter, logitTokens, threads, encoder);
    }

    public AtlasSettings withTopK(int k) {
        return new AtlasSettings(layer, contextLength, batchTokens, contextsPerShard, k, quantileIntervals, quantileExamples, sampleSize, windowBefore, windowAfter, logitTokens, threads, encoder);
    }

    public AtlasSettings withEncoder(EncoderKind e) {
        return new AtlasSettings(layer, contextLength, batchTokens, contextsPerShard, topK, quantileIntervals, quantileExamples, sampleSize, windowBefore, windowAfter, logitTokens, threads, e);
    }

    public AtlasSettings withThreads(int n) {
        return new AtlasSettings(layer, contextLength, batchTokens, contextsPerShard, topK, quantileIntervals, quantileExamples, sampleSize, windowBefore, windowAfter, logitTokens, n, encoder);
    }

    /**
     * What determines the numbers (the run key and atlas.json): everything but threads and the encoder, which
     * change speed only (the encoders agree up to rounding; the chosen one is recorded separately).
     */
    public Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layer", layer);
        m.put("context_length", contextLength);
        m.put("batch_tokens", batchTokens);
        m.put("contexts_per_shard", contextsPerShard);
        m.put("top_k", topK);
        m.put("quantile_intervals", quantileIntervals);
        m.put("quantile_examples", quantileExamples);
        m.put("sample_size", sampleSize);
        m.put("window_before", windowBefore);
        m.put("window_after", windowAfter);
        m.put("logit_tokens", logitTokens);
        return m;
    }
}
