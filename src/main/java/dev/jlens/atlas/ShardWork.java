package dev.jlens.atlas;

import dev.jlens.activations.CaptureSource;
import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.sae.EncoderChoice;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SparseCodes;

import java.util.ArrayList;
import java.util.List;

/**
 * The atlas's per-partition function, one implementation for the embedded engine and the Spark job: capture
 * the residual stream of whole context batches (fixed groups of the global context order, so the numbers never
 * depend on partitioning), encode them with every SAE, and feed the codes to the statistics (first pass) or cut
 * the requested windows out of them (second pass, which decodes the same batches and so sees bit-identical
 * activations). Owns one llama context and one encoder per SAE; the model and SAEs belong to the caller.
 * Confined to one thread.
 */
public final class ShardWork implements AutoCloseable {
    private final Model model;
    private final List<Sae> saes;
    private final AtlasSettings settings;
    private final Context ctx;
    private final List<SaeEncoder> encoders = new ArrayList<>();
    private final List<String> reasons = new ArrayList<>();

    public ShardWork(Model model, List<Sae> saes, AtlasSettings settings) {
        this.model = model;
        this.saes = List.copyOf(saes);
        this.settings = settings;
        for (Sae s : saes) s.validateFor(model.nEmbd());
        int nCtx = settings.batchTokens();
        Context c = model.newContext(Context.Params.defaults().withCtx(nCtx).withUbatch(Math.min(nCtx, 4096))
                .withSeqMax(Math.min(AtlasSettings.MAX_BATCH_CONTEXTS, nCtx)).withThreads(settings.threads()));
        this.ctx = c;
        try {
            for (Sae s : saes) {
                EncoderChoice choice = EncoderChoice.of(s, settings.encoder().toString());
                SaeEncoder e = s.encoder(settings.encoder());
                encoders.add(e);
                reasons.add(choice.reasonFor(e.kind()));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** The encoder kind each SAE runs with (what "auto" chose). */
    public List<String> encoderKinds() {
        List<String> k = new ArrayList<>();
        for (SaeEncoder e : encoders) k.add(e.kind());
        return k;
    }

    /** Why each SAE runs with its encoder ({@link EncoderChoice#reason()}), recorded in atlas.json. */
    public List<String> encoderReasons() {
        return List.copyOf(reasons);
    }

    /** Stops a running decode from another thread (Ctrl-C); the current call then fails with a cancellation. */
    public void cancel() { ctx.cancel(); }

    /** First pass over one whole shard: one fresh statistics object per SAE. */
    public List<FeatureStats> scan(List<AtlasContext> contexts) {
        return scan(contexts, null);
    }

    /** First pass, also handing every context's codes to {@code spill} (may be null). */
    public List<FeatureStats> scan(List<AtlasContext> contexts, ShardCodes.Writer spill) {
        List<FeatureStats> stats = new ArrayList<>();
        List<ContextScanner> scanners = new ArrayList<>();
        for (Sae s : saes) {
            FeatureStats st = new FeatureStats(s.dSae(), settings.topK(), settings.sampleSize());
            stats.add(st);
            scanners.add(new ContextScanner(st));
        }
        forEachBatch(contexts, batch -> true, (batch, codes, rowStart) -> {
            for (int i = 0; i < scanners.size(); i++) {
                for (int c = 0; c < batch.size(); c++) {
                    scanners.get(i).scan(batch.get(c).id(), codes.get(i), rowStart[c], rowStart[c + 1]);
                }
            }
            if (spill != null) for (int c = 0; c < batch.size(); c++) spill.add(batch.get(c).id(), codes, rowStart[c], rowStart[c + 1]);
        });
        return stats;
    }

    /**
     * Second pass over the same whole shard: the requested windows. Only batches holding a requested context are
     * decoded, and they are the first pass's batches, so the activations are bit-identical.
     */
    public WindowRequests.Results windows(List<AtlasContext> shard, WindowRequests req) {
        WindowRequests.Results out = new WindowRequests.Results(saes.size());
        forEachBatch(shard, batch -> {
            for (AtlasContext x : batch) if (req.wants(x.id())) return true;
            return false;
        }, (batch, codes, rowStart) -> {
            for (int c = 0; c < batch.size(); c++) {
                AtlasContext x = batch.get(c);
                for (int s = 0; s < saes.size(); s++) {
                    for (int[] fp : req.requests(s, x.id())) {
                        out.put(s, x.id(), fp[0], window(codes.get(s), rowStart[c], x.tokens(), fp[0], fp[1]));
                    }
                }
            }
        });
        return out;
    }

    private Window window(SparseCodes codes, int row0, int[] tokens, int feature, int position) {
        return window(codes, row0, tokens, feature, position, settings);
    }

    /** The window around {@code position} of the context whose rows start at {@code row0} of {@code codes}. */
    static Window window(SparseCodes codes, int row0, int[] tokens, int feature, int position, AtlasSettings settings) {
        int from = Math.max(0, position - settings.windowBefore());
        int to = Math.min(tokens.length, position + settings.windowAfter() + 1);
        int[] t = new int[to - from];
        float[] v = new float[to - from];
        for (int p = from; p < to; p++) {
            t[p - from] = tokens[p];
            v[p - from] = p == 0 ? 0f : codes.value(row0 + p, feature);
        }
        return new Window(from, t, v);
    }

    private interface BatchVisitor {
        void visit(List<AtlasContext> batch, List<SparseCodes> codes, int[] rowStart);
    }

    /**
     * How a shard is cut into decode batches: greedily, in order, at most batchTokens tokens and
     * MAX_BATCH_CONTEXTS contexts each. Depends only on the shard, so both passes and every partitioning agree.
     */
    public static List<List<AtlasContext>> batches(List<AtlasContext> shard, AtlasSettings s) {
        List<int[]> tokens = new ArrayList<>(shard.size());
        for (AtlasContext c : shard) {
            if (c.tokens().length > s.batchTokens()) throw new IllegalArgumentException("context " + c.id() + " has " + c.tokens().length + " tokens, more than --batch-tokens " + s.batchTokens());
            tokens.add(c.tokens());
        }
        List<List<AtlasContext>> out = new ArrayList<>();
        for (CaptureSource.Batch b : CaptureSource.plan(tokens, s.batchTokens(), AtlasSettings.MAX_BATCH_CONTEXTS)) out.add(shard.subList(b.from(), b.to()));
        return out;
    }

    private void forEachBatch(List<AtlasContext> shard, java.util.function.Predicate<List<AtlasContext>> wanted, BatchVisitor visitor) {
        checkShard(shard);
        CaptureSource source = new CaptureSource(ctx, settings.layer());
        for (List<AtlasContext> b : batches(shard, settings)) {
            if (!wanted.test(b)) continue;
            List<int[]> toks = new ArrayList<>(b.size());
            int[] rowStart = new int[b.size() + 1];
            for (int c = 0; c < b.size(); c++) {
                int[] t = b.get(c).tokens();
                if (t.length > settings.contextLength()) throw new IllegalArgumentException("context " + b.get(c).id() + " has " + t.length + " tokens, more than " + settings.contextLength());
                if (t[0] != model.vocab().bos()) throw new IllegalArgumentException("context " + b.get(c).id() + " does not start with BOS");
                toks.add(t);
                rowStart[c + 1] = rowStart[c] + t.length;
            }
            try (Activations a = source.capture(toks, new CaptureSource.Batch(0, toks.size()))) {
                if (a.rows() != rowStart[b.size()]) throw new IllegalStateException("captured " + a.rows() + " rows for " + rowStart[b.size()] + " tokens");
                List<SparseCodes> codes = new ArrayList<>(encoders.size());
                for (SaeEncoder e : encoders) codes.add(e.encode(a.data(), a.rows()));
                visitor.visit(b, codes, rowStart);
            }
        }
    }

    /** A shard is whole: consecutive contexts starting at a multiple of contextsPerShard. */
    private void checkShard(List<AtlasContext> shard) {
        if (shard.isEmpty()) return;
        long first = shard.get(0).index();
        if (first % settings.contextsPerShard() != 0 || shard.size() > settings.contextsPerShard()) {
            throw new IllegalArgumentException("contexts from index " + first + " (" + shard.size() + ") are not a whole shard of " + settings.contextsPerShard());
        }
        for (int i = 1; i < shard.size(); i++) {
            if (shard.get(i).index() != first + i) throw new IllegalArgumentException("shard contexts are not consecutive at index " + shard.get(i).index());
        }
    }

    @Override
    public void close() {
        for (SaeEncoder e : encoders) e.close();
        ctx.close();
    }
}
