package dev.jlens.atlas;

import dev.jlens.sae.SparseCodes;

/**
 * Feeds one context's sparse codes into {@link FeatureStats}: every non-BOS token's active features fire, and
 * each feature's maximum over the context (first position on ties) is offered once to the top-k and the
 * sample. Position 0 of every context is its BOS and never counts. Keeps two d_sae scratch arrays, so it
 * allocates nothing per context. Not thread-safe; one per SAE per worker.
 */
public final class ContextScanner {
    private final FeatureStats stats;
    private final float[] ctxMax;
    private final int[] ctxPos;
    private final int[] touched;
    private int nTouched;

    public ContextScanner(FeatureStats stats) {
        this.stats = stats;
        this.ctxMax = new float[stats.dSae()];
        this.ctxPos = new int[stats.dSae()];
        this.touched = new int[stats.dSae()];
    }

    public FeatureStats stats() { return stats; }

    /**
     * Scans the context whose rows are {@code [from, to)} of {@code codes}; row {@code from} is the BOS at
     * position 0, row {@code from + p} is position p.
     */
    public void scan(long context, SparseCodes codes, int from, int to) {
        if (from < 0 || to > codes.nTokens() || to <= from) throw new IllegalArgumentException("rows [" + from + ", " + to + ") of " + codes.nTokens());
        if (codes.dSae() != stats.dSae()) throw new IllegalArgumentException("codes have d_sae " + codes.dSae() + ", stats " + stats.dSae());
        stats.addContext(to - from - 1);
        for (int r = from + 1; r < to; r++) {
            int pos = r - from;
            int n = codes.l0(r);
            long off = codes.offset(r);
            for (int j = 0; j < n; j++) {
                int f = codes.indexAt(off + j);
                float v = codes.valueAt(off + j);
                stats.fire(f, v);
                if (ctxMax[f] == 0f) touched[nTouched++] = f;
                if (v > ctxMax[f]) {
                    ctxMax[f] = v;
                    ctxPos[f] = pos;
                }
            }
        }
        for (int i = 0; i < nTouched; i++) {
            int f = touched[i];
            stats.contextMax(f, context, ctxPos[f], ctxMax[f]);
            ctxMax[f] = 0f;
        }
        nTouched = 0;
    }
}
