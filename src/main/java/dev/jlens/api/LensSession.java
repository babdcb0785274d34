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
     *
     * @param prompts the prompt texts, at least one, none null or blank; each is tokenized with the model's BOS and
     *                must fit the session's context (prompts are rejected, never truncated)
     * @param layer   the 0-based layer whose output is captured, in [0, {@link LensModel#layers()})
     * @return all rows, in prompt then position order; the caller closes them
     * @throws IllegalArgumentException naming the prompt or the layer when one is out of range, or the prompt list empty
     * @throws IllegalStateException when another thread is using this session, or it is closed
     * @throws dev.jlens.errors.NativeException when llama.cpp fails to decode a batch
     */
    public LayerActivations capture(List<String> prompts, int layer) {
        CaptureSource source = new CaptureSource(ctx, layer);
        TokenizedPrompts t = source.tokenize(prompts);
        return new LayerActivations(source.captureAll(t.tokens()), layer, t.bosTokenId());
    }

    /**
     * Streams the capture batch by batch: {@code perBatch} gets each batch's activations (prompt indices are
     * positions in {@code prompts}) and must close them; memory stays bounded by one batch.
     *
     * @param prompts  as {@link #capture}; packed in order into batches of whole prompts that fit the context
     * @param layer    as {@link #capture}
     * @param perBatch called once per batch, on this thread, in prompt order
     * @throws NullPointerException when {@code perBatch} is null
     * @throws IllegalArgumentException as {@link #capture}, before any batch is decoded
     * @throws IllegalStateException when another thread is using this session, or it is closed
     * @throws dev.jlens.errors.NativeException when llama.cpp fails to decode a batch
     */
    public void captureEach(List<String> prompts, int layer, Consumer<LayerActivations> perBatch) {
        Objects.requireNonNull(perBatch, "perBatch");
        CaptureSource source = new CaptureSource(ctx, layer);
        TokenizedPrompts t = source.tokenize(prompts);
        source.captureEach(t.tokens(), a -> perBatch.accept(new LayerActivations(a, layer, t.bosTokenId())));
    }

    /**
     * Adds {@code vector} (length d_model) to the residual stream at {@code layer}'s output (1..layers-1), at every
     * position, until the returned scope is closed. While it is open, {@link #generate} and a capture at {@code layer}
     * or above on this session see the shifted stream (layers below are unchanged); closing it restores the unsteered
     * computation exactly. One scope may be open at a time.
     *
     * @param vector the direction times its strength, {@link LensModel#dModel()} finite values, in residual-stream units
     *               (the vector is copied: changing it later has no effect)
     * @param layer  the layer whose output is shifted, in [1, {@link LensModel#layers()}) (llama.cpp control vectors
     *               cannot steer layer 0)
     * @return the scope; closing it removes the vector (its {@code close} throws nothing)
     * @throws IllegalArgumentException when the vector has the wrong length or a non-finite value, or the layer is
     *                                  out of range
     * @throws IllegalStateException when a steering scope is already open on this session
     */
    public AutoCloseable steer(float[] vector, int layer) {
        Steering s = ctx.steer(vector, layer);
        return s::close;
    }

    /**
     * Generates a continuation: temperature 0 is greedy; otherwise top-k (0 = off), top-p (1 = off), temperature and
     * a seeded draw. Honours an open steering scope. Each call starts from an empty cache, so calls are independent.
     *
     * @param prompt      the prompt text, tokenized with the model's BOS
     * @param maxTokens   the most tokens to generate, &gt;= 1; generation stops earlier at an end-of-generation token
     *                    or when the context is full
     * @param temperature 0 for greedy decoding, otherwise the sampling temperature, &gt; 0
     * @param topK        keep only the {@code topK} most likely tokens before sampling, 0 = off; ignored when greedy
     * @param topP        nucleus sampling mass, in (0, 1], 1 = off; ignored when greedy
     * @param seed        the sampler's seed, in [0, 2^32); the same seed, settings and prompt give the same text;
     *                    ignored when greedy
     * @return the continuation's text, prompt excluded
     * @throws IllegalArgumentException when a setting is out of its range
     * @throws IllegalStateException when another thread is using this session, or it is closed
     * @throws dev.jlens.errors.NativeException when llama.cpp fails to decode
     */
    public String generate(String prompt, int maxTokens, float temperature, int topK, float topP, long seed) {
        Generation.Params p = temperature == 0f ? Generation.Params.greedy(maxTokens) : Generation.Params.sampled(maxTokens, temperature, topK, topP, seed);
        return Generation.generate(ctx, model.tokenize(prompt), p, null).text();
    }

    @Override
    public void close() { ctx.close(); }
}
