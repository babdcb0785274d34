package dev.jlens.atlas;

import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeEncoders;
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

    public ShardWork(Model model, List<Sae> saes, AtlasSettings settings) {
        this.model = model;
        this.saes = List.copyOf(saes);
        this.settings = settings;
        for (Sae s : saes) s.validateFor(model.nEmbd());
        int nCtx = settings.contextsPerBatch() * settings.contextLength();
        Context c = model.newContext(Context.Params.defaults().withCtx(nCtx).withUbatch(Math.min(nCtx, 4096))
                .withSeqMax(settings.contextsPerBatch()).withThreads(settings.threads()));
        this.ctx = c;
        try {
            for (Sae s : saes) encoders.add(SaeEncoders.create(s, settings.encoder()));
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

    /** Stops a running decode from another thread (Ctrl-C); the current call then fails with a cancellation. */
    public void cancel() { ctx.cancel(); }

    /** First pass over consecutive whole batches: one fresh statistics object per SAE. */
    public List<FeatureStats> scan(List<AtlasContext> contexts) {
        List<FeatureStats> stats = new ArrayList<>();
        List<ContextScanner> scanners = new ArrayList<>();
        for (Sae s : saes) {
            FeatureStats st = new FeatureStats(s.dSae(), settings.topK(), settings.sampleSize());
            stats.add(st);
            scanners.add(new ContextScanner(st));
        }
        forEachBatch(contexts, (batch, codes, rowStart) -> {
            for (int i = 0; i < scanners.size(); i++) {
                for (int c = 0; c < batch.size(); c++) {
                    scanners.get(i).scan(batch.get(c).id(), codes.get(i), rowStart[c], rowStart[c + 1]);
                }
            }
        });
        return stats;
    }

    /** Second pass: the requested windows of these contexts' batches (batches with no request are skipped). */
    public WindowRequests.Results windows(List<AtlasContext> contexts, WindowRequests req) {
        WindowRequests.Results out = new WindowRequests.Results(saes.size());
        List<AtlasContext> wanted = new ArrayList<>();
        // keep only the batches that hold a requested context, whole
        int per = settings.contextsPerBatch();
        for (int i = 0; i < contexts.size(); ) {
            int j = i;
            long batch = contexts.get(i).index() / per;
            boolean any = false;
            while (j < contexts.size() && contexts.get(j).index() / per == batch) any |= req.wants(contexts.get(j++).id());
            if (any) wanted.addAll(contexts.subList(i, j));
            i = j;
        }
        forEachBatch(wanted, (batch, codes, rowStart) -> {
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

    private void forEachBatch(List<AtlasContext> contexts, BatchVisitor visitor) {
        int per = settings.contextsPerBatch();
        Context.CaptureSpec spec = Context.CaptureSpec.layer(settings.layer());
        for (int i = 0; i < contexts.size(); ) {
            long batch = contexts.get(i).index() / per;
            if (contexts.get(i).index() % per != 0) {
                throw new IllegalArgumentException("context " + contexts.get(i).id() + " (index " + contexts.get(i).index() + ") does not start a batch of " + per);
            }
            int j = i;
            while (j < contexts.size() && contexts.get(j).index() / per == batch) {
                if (contexts.get(j).index() != contexts.get(i).index() + (j - i)) {
                    throw new IllegalArgumentException("contexts of batch " + batch + " are not consecutive at index " + contexts.get(j).index());
                }
                j++;
            }
            List<AtlasContext> b = contexts.subList(i, j);
            List<int[]> toks = new ArrayList<>(b.size());
            int[] rowStart = new int[b.size() + 1];
            for (int c = 0; c < b.size(); c++) {
                int[] t = b.get(c).tokens();
                if (t.length > settings.contextLength()) throw new IllegalArgumentException("context " + b.get(c).id() + " has " + t.length + " tokens, more than " + settings.contextLength());
                if (t[0] != model.vocab().bos()) throw new IllegalArgumentException("context " + b.get(c).id() + " does not start with BOS");
                toks.add(t);
                rowStart[c + 1] = rowStart[c] + t.length;
            }
            try (Activations a = ctx.capture(toks, spec)) {
                List<SparseCodes> codes = new ArrayList<>(encoders.size());
                for (SaeEncoder e : encoders) codes.add(e.encode(a.data(), a.rows()));
                visitor.visit(b, codes, rowStart);
            }
            i = j;
        }
    }

    @Override
    public void close() {
        for (SaeEncoder e : encoders) e.close();
        ctx.close();
    }
}
