package dev.jlens.api;

import dev.jlens.activations.CaptureSource;
import dev.jlens.activations.TokenizedPrompts;
import dev.jlens.llama.Context;
import dev.jlens.llama.Generation;
import dev.jlens.llama.Steering;

import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Capture, steering and generation on one model. Confined: one thread at a time (another thread entering gets
 * IllegalStateException). Close it when done; it owns native memory.
 */
public final class LensSession implements AutoCloseable {
    private final LensModel model;
    private final Context ctx;

    LensSession(LensModel model, Context ctx) {
        this.model = model;
        this.ctx = ctx;
    }

    /**
     * The residual stream after {@code layer} for every token of every prompt (BOS rows included), computed with
     * early exit (layers above are never run). Memory grows with the prompts: see {@link #captureEach}.
     */
    public LayerActivations capture(List<String> prompts, int layer) {
        CaptureSource source = new CaptureSource(ctx, layer);
        TokenizedPrompts t = source.tokenize(prompts);
        return new LayerActivations(source.captureAll(t.tokens()), layer, t.bosTokenId());
    }

    /**
     * Streams the capture batch by batch: {@code perBatch} gets each batch's activations (prompt indices are
     * positions in {@code prompts}) and must close them; memory stays bounded by one batch.
     */
    public void captureEach(List<String> prompts, int layer, Consumer<LayerActivations> perBatch) {
        Objects.requireNonNull(perBatch, "perBatch");
        CaptureSource source = new CaptureSource(ctx, layer);
        TokenizedPrompts t = source.tokenize(prompts);
        source.captureEach(t.tokens(), a -> perBatch.accept(new LayerActivations(a, layer, t.bosTokenId())));
    }

    /**
     * Adds {@code vector} (length d_model) to the residual stream at {@code layer}'s output (1..layers-1), at every
     * position, until the returned scope is closed.
     */
    public AutoCloseable steer(float[] vector, int layer) {
        Steering s = ctx.steer(vector, layer);
        return s::close;
    }

    /**
     * Generates a continuation: temperature 0 is greedy; otherwise top-k (0 = off), top-p (1 = off), temperature and
     * a seeded draw. Honours an open steering scope.
     */
    public String generate(String prompt, int maxTokens, float temperature, int topK, float topP, long seed) {
        Generation.Params p = temperature == 0f ? Generation.Params.greedy(maxTokens) : Generation.Params.sampled(maxTokens, temperature, topK, topP, seed);
        return Generation.generate(ctx, model.tokenize(prompt), p, null).text();
    }

    @Override
    public void close() { ctx.close(); }
}
