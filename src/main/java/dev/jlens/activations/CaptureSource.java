package dev.jlens.activations;

import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Vocab;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The one capture path of jlens: the API session ({@code api.LensSession}), `jlens capture` ({@link CaptureJob}), the
 * France study's activation cache ({@link ActivationCache}), the isolated worker (through {@link CaptureJob}) and the
 * atlas ({@code atlas.ShardWork}) all tokenize and validate with {@link #tokenize} ({@link TokenizedPrompts#of}), plan
 * batches with {@link #plan} and decode each planned batch with {@link #capture}; no caller packs batches itself.
 *
 * <p>A plan is a pure function of the prompts' token counts and the two limits (greedy, in order), so a resumed or
 * cached run recomputes exactly the batches it lacks and every batch rounds as it did before (batch composition can
 * change f32 rounding). Borrows its context: the caller closes it. Confined to the context's thread.
 */
public final class CaptureSource {
    /** Prompts [from, to) decoded together. */
    public record Batch(int from, int to) {
        public Batch {
            if (from < 0 || to <= from) throw new IllegalArgumentException("batch [" + from + ", " + to + ") is empty or negative");
        }

        public int size() { return to - from; }
    }

    private final Context ctx;
    private final Context.CaptureSpec spec;

    /** Captures the output of {@code layer} ({@code l_out-layer}) with early exit, on {@code ctx}. */
    public CaptureSource(Context ctx, int layer) {
        this(ctx, Context.CaptureSpec.layer(layer));
    }

    public CaptureSource(Context ctx, Context.CaptureSpec spec) {
        this.ctx = Objects.requireNonNull(ctx, "ctx");
        this.spec = Objects.requireNonNull(spec, "spec");
    }

    /** The one tokenize-and-validate step ({@link TokenizedPrompts#of}); {@code maxTokens} is the most tokens per batch. */
    public static TokenizedPrompts tokenize(Vocab vocab, List<String> texts, int maxTokens) {
        return TokenizedPrompts.of(vocab, texts, maxTokens);
    }

    /** {@link #tokenize(Vocab, List, int)} for this source's model and context size. */
    public TokenizedPrompts tokenize(List<String> texts) {
        return TokenizedPrompts.of(ctx.model().vocab(), texts, ctx.params().nCtx());
    }

    /**
     * The one batch packer: greedily, in order, at most {@code maxTokens} tokens and {@code maxSeqs} prompts per batch
     * (the algorithm of {@link Context#packBatches}, which the native layer's own multi-batch capture uses too). A
     * prompt longer than {@code maxTokens} is refused (IllegalArgumentException).
     */
    public static List<Batch> plan(List<int[]> tokens, int maxTokens, int maxSeqs) {
        List<Batch> out = new ArrayList<>();
        for (int[] b : Context.packBatches(tokens, maxTokens, maxSeqs)) out.add(new Batch(b[0], b[1]));
        return out;
    }

    /** {@link #plan(List, int, int)} with this context's limits (nCtx tokens, nSeqMax prompts). */
    public List<Batch> plan(List<int[]> tokens) {
        return plan(tokens, ctx.params().nCtx(), ctx.params().nSeqMax());
    }

    /** Decodes one planned batch of {@code tokens}; rows carry the prompts' indices in {@code tokens}. The caller closes the result. */
    public Activations capture(List<int[]> tokens, Batch batch) {
        return ctx.captureBatch(tokens, batch.from(), batch.to(), spec);
    }

    /** Captures every batch of this context's plan; {@code perBatch} gets each batch's rows and must close them. */
    public void captureEach(List<int[]> tokens, Consumer<Activations> perBatch) {
        Objects.requireNonNull(perBatch, "perBatch");
        for (Batch b : plan(tokens)) perBatch.accept(capture(tokens, b));
    }

    /** Captures every prompt into one {@link Activations} (memory grows with the prompts; prefer {@link #captureEach}). */
    public Activations captureAll(List<int[]> tokens) {
        List<Activations> parts = new ArrayList<>();
        try {
            captureEach(tokens, parts::add);
            return ctx.concat(parts, spec.layers());
        } finally {
            for (Activations a : parts) a.close();
        }
    }
}
