package dev.jlens.spark;

import dev.jlens.api.EncoderKind;
import dev.jlens.atlas.AtlasSettings;

import java.io.Serializable;
import java.util.List;

/**
 * What an executor needs to do a shard's work, as plain serializable values (the only thing the tasks' functions
 * capture besides the broadcast window requests): where the model and the SAEs are, and the atlas settings with the
 * CPU threads of one task. The executor opens the files itself, once per JVM ({@link ExecutorResources}).
 *
 * @param model   absolute path of the GGUF file, readable at that path on every executor
 * @param saes    the SAEs as the driver loaded them (paths made absolute, registry ids as given)
 * @param encoder the encoder's spelling ({@code EncoderKind.toString()}), parsed back by {@link #settings()}
 * @param content SHA-256 of the model and SAE contents the driver hashed for the run key: an executor JVM that
 *                outlives a run reopens files that changed since
 */
record TaskSpec(String model, List<String> saes, String content, int layer, int contextLength, int batchTokens, int contextsPerShard,
                int topK, int quantileIntervals, int quantileExamples, int sampleSize, int windowBefore, int windowAfter,
                int logitTokens, int threads, String encoder) implements Serializable {
    TaskSpec {
        saes = List.copyOf(saes);
        settings(layer, contextLength, batchTokens, contextsPerShard, topK, quantileIntervals, quantileExamples,
                sampleSize, windowBefore, windowAfter, logitTokens, threads, encoder);
    }

    static TaskSpec of(String model, List<String> saes, String content, AtlasSettings s) {
        return new TaskSpec(model, saes, content, s.layer(), s.contextLength(), s.batchTokens(), s.contextsPerShard(), s.topK(),
                s.quantileIntervals(), s.quantileExamples(), s.sampleSize(), s.windowBefore(), s.windowAfter(), s.logitTokens(),
                s.threads(), s.encoder().toString());
    }

    AtlasSettings settings() {
        return settings(layer, contextLength, batchTokens, contextsPerShard, topK, quantileIntervals, quantileExamples,
                sampleSize, windowBefore, windowAfter, logitTokens, threads, encoder);
    }

    private static AtlasSettings settings(int layer, int contextLength, int batchTokens, int perShard, int topK, int qi, int qe,
                                          int sample, int before, int after, int logits, int threads, String encoder) {
        return new AtlasSettings(layer, contextLength, batchTokens, perShard, topK, qi, qe, sample, before, after, logits, threads,
                EncoderKind.parse(encoder));
    }
}
