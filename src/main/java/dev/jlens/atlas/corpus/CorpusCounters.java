package dev.jlens.atlas.corpus;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a {@link ContextPlan} has consumed so far (or in all, once it is exhausted).
 *
 * @param documents documents read (blank ones included, skipped ones not); when the token cap stops the plan,
 *                  the document whose context did not fit is counted
 * @param skipped skipped documents by {@link SkipReason#code()} (a binary or corrupt-gzip file counts once); sorted
 * @param emptyDocuments documents read that had no token (blank lines...) and so gave no context
 * @param contexts contexts returned
 * @param tokens tokens in those contexts, BOS included
 * @param nonBosTokens tokens in those contexts, BOS excluded ({@code tokens - contexts})
 * @param capReached whether the plan stopped at {@code maxTokens} before the end of the corpus
 */
public record CorpusCounters(long documents, Map<String, Long> skipped, long emptyDocuments, long contexts,
                             long tokens, long nonBosTokens, boolean capReached) {
    public CorpusCounters {
        skipped = Collections.unmodifiableMap(new TreeMap<>(skipped));
        if (documents < 0 || emptyDocuments < 0 || contexts < 0 || tokens < 0 || nonBosTokens < 0) {
            throw new IllegalArgumentException("negative counter");
        }
    }

    /** All skipped documents and files. */
    public long skippedTotal() {
        long n = 0;
        for (long v : skipped.values()) n += v;
        return n;
    }

    /** The counters with snake_case keys, for a run's metadata. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("documents", documents);
        m.put("skipped", skipped);
        m.put("skipped_total", skippedTotal());
        m.put("empty_documents", emptyDocuments);
        m.put("contexts", contexts);
        m.put("tokens", tokens);
        m.put("non_bos_tokens", nonBosTokens);
        m.put("cap_reached", capReached);
        return Collections.unmodifiableMap(m);
    }
}
