/**
 * The corpus input of the feature atlas: which files ({@link dev.jlens.atlas.corpus.CorpusFiles}), how they split
 * into documents ({@link dev.jlens.atlas.corpus.CorpusReader}, {@link dev.jlens.atlas.corpus.Document}), and how
 * documents become BOS-prefixed model contexts ({@link dev.jlens.atlas.corpus.ContextCutter},
 * {@link dev.jlens.atlas.corpus.CorpusContext}), streamed over the whole corpus by
 * {@link dev.jlens.atlas.corpus.ContextPlan} from a validated {@link dev.jlens.atlas.corpus.CorpusSpec}.
 *
 * <p>Everything is deterministic: the same corpus and spec give the same files, document ids, context ids and
 * tokens, so a run can be resumed or sharded by id. Bad input is a {@link dev.jlens.atlas.corpus.CorpusException}
 * naming file and line, or, with skipBad, a count per {@link dev.jlens.atlas.corpus.SkipReason}. Internal package:
 * no reflection (Jackson is used through its streaming parser only), so module-info needs no {@code opens}.
 */
package dev.jlens.atlas.corpus;
