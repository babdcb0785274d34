package dev.jlens.study;

import dev.jlens.activations.ActivationCache;
import dev.jlens.activations.ActivationSource;
import dev.jlens.activations.Captured;
import dev.jlens.activations.Numerics;
import dev.jlens.activations.CaptureSource;
import dev.jlens.activations.TokenizedPrompts;
import dev.jlens.util.FileHashes;
import dev.jlens.util.Json;
import dev.jlens.util.RunFolder;
import dev.jlens.util.Progress;

import dev.jlens.api.Decision;
import dev.jlens.api.FeaturePair;
import dev.jlens.api.FeatureStats;
import dev.jlens.api.Verdict;
import dev.jlens.analysis.ContrastStats;
import dev.jlens.analysis.CrossResolutionMap;
import dev.jlens.analysis.FacetProfile;
import dev.jlens.analysis.FacetSplit;
import dev.jlens.analysis.FeatureContrast;
import dev.jlens.analysis.FeatureTable;
import dev.jlens.analysis.Label;
import dev.jlens.analysis.Pca3;
import dev.jlens.analysis.PromptActivations;
import dev.jlens.analysis.PromptSet;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.Csv;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.llama.NativeLibrary;
import dev.jlens.sae.EncoderOptions;
import dev.jlens.sae.ModelIdentity;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeFit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The concept experiment of the France feature-mapping study, end to end: capture layer-L residuals for
 * target and control prompts (cached shards, resumable), encode them with a coarse and a fine SAE and
 * aggregate per prompt over non-BOS tokens (cached, resumable), contrast statistics for every active
 * feature of both SAEs, the cross-resolution map between top coarse anchors and top fine features
 * (correlation + decoder cosine) with the GO/NO-GO verdict, facet profiles, a PCA point cloud of the
 * decoder directions, and the outputs: results.json, CSVs, and (through {@link ReportWriter}) the report.
 * Memory is bounded by one batch of activations plus the sparse per-prompt aggregates.
 */
public final class ConceptExperiment {
    private static final System.Logger LOG = System.getLogger(ConceptExperiment.class.getName());
    private static final int TOP_PROMPTS = 5;

    private ConceptExperiment() {}

    /** What a run produced, plus how long its stages took (kept out of results.json so that stays deterministic). */
    public record Outcome(ExperimentResult result, Path outDir, Map<String, Double> stageSeconds, int shardsComputed) {}

    public static Outcome run(ExperimentConfig cfg, Progress progress) throws IOException {
        Map<String, Double> stages = new LinkedHashMap<>();
        try (RunFolder lock = RunFolder.lock(cfg.outDir())) { // a second run into this folder fails before any work
            Captured c = capture(cfg, progress, stages);
            return analyze(cfg, c, progress, stages);
        }
    }

    /** Stage 1: capture every missing activation shard of the config's prompts (cached, resumable). */
    public static Captured capture(ExperimentConfig cfg, Progress progress, Map<String, Double> stages) throws IOException {
        long t = System.nanoTime();
        PromptSet target = cfg.targetPrompts() == null ? PromptSet.builtin("france") : PromptSet.load(cfg.targetPrompts());
        PromptSet control = cfg.controlPrompts() == null ? PromptSet.builtin("neutral") : PromptSet.load(cfg.controlPrompts());
        List<PromptSet.Prompt> prompts = new ArrayList<>(target.prompts());
        prompts.addAll(control.prompts());
        int nTarget = target.size();
        if (nTarget < 2 || control.size() < 2) throw new IllegalArgumentException("need at least 2 target and 2 control prompts");
        Files.createDirectories(cfg.cacheDir());
        String modelSha = FileHashes.sha256(cfg.model(), cfg.cacheDir());
        stages.put("hash", secs(t));

        t = System.nanoTime();
        String commit = NativeLibrary.load().ggmlCommit();
        if (cfg.gpuCapture() && dev.jlens.llama.Backends.gpus().isEmpty()) {
            throw new IllegalArgumentException("--gpu-capture needs a llama.cpp build with a GPU backend and a GPU (scripts/build-native.sh --cuda); "
                    + "this build has none");
        }
        // before the capture: an SAE of another layer or hook is refused, a model mismatch warned about (issue 16)
        SaeFit.requireForCapture(List.of(cfg.coarseSae(), cfg.fineSae()), cfg.layer(), cfg.model());
        try (Model model = Model.load(cfg.model(), cfg.gpuCapture() ? Model.Params.captureOnGpu(cfg.layer()) : Model.Params.defaults())) {
            if (cfg.layer() >= model.nLayer()) {
                throw new IllegalArgumentException("layer " + cfg.layer() + " is out of range: the model has layers 0.." + (model.nLayer() - 1));
            }
            TokenizedPrompts tokenized = CaptureSource.tokenize(model.vocab(), prompts.stream().map(PromptSet.Prompt::text).toList(), cfg.nCtx());
            List<int[]> tokens = tokenized.tokens();
            List<CaptureSource.Batch> plan = CaptureSource.plan(tokens, cfg.nCtx(), cfg.nSeqMax());
            Context.Params ctxParams = captureParams(cfg);
            Numerics numerics = Numerics.of(ctxParams, cfg.model());
            Map<String, String> key = new LinkedHashMap<>();
            key.put("model_sha256", modelSha);
            key.put("layer", String.valueOf(cfg.layer()));
            StringBuilder all = new StringBuilder();
            for (PromptSet.Prompt p : prompts) all.append(p.text()).append('\n');
            key.put("prompts_sha256", FileHashes.sha256(all.toString()));
            key.put("llama_cpp_commit", commit);
            key.put("ctx", String.valueOf(cfg.nCtx()));
            key.put("seqs", String.valueOf(cfg.nSeqMax()));
            key.put("kv_cache", numerics.kvCacheType()); // an f16 cache moves rows by ~2e-3: never mix the two
            key.put("flash_attn", String.valueOf(numerics.flashAttention()));
            if (cfg.gpuCapture()) key.put("device", dev.jlens.llama.Backends.gpus().get(0).description()); // GPU rounding differs
            String cacheKey = FileHashes.sha256(Json.MAPPER.writeValueAsString(key)).substring(0, 16);
            ActivationCache cache = new ActivationCache(cfg.cacheDir().resolve("acts-" + cacheKey), key, plan, model.nEmbd());
            int computed = 0;
            if (cache.anyMissing()) {
                try (Context ctx = model.newContext(ctxParams)) {
                    computed = cache.fill(new CaptureSource(ctx, cfg.layer()), tokens, progress);
                }
            }
            stages.put("capture", secs(t));
            return new Captured(cache, prompts, nTarget, target.source(), control.source(), tokenized.bosTokenId(), cfg.model().toString(),
                    modelSha, model.architecture(), commit, computed, numerics);
        }
    }

    /**
     * The capture context of an experiment: f32 K/V cache and no flash attention (what an f32 reference forward pass
     * computes, ~4e-5 median row error at layer 12), or with {@code fastKv} llama.cpp's f16 K/V cache (~2e-3).
     */
    static Context.Params captureParams(ExperimentConfig cfg) {
        return Context.Params.defaults().withCtx(cfg.nCtx()).withUbatch(Math.min(512, cfg.nCtx())).withSeqMax(cfg.nSeqMax())
                .withThreads(cfg.threads()).withFastKv(cfg.fastKv());
    }

    /** Stages 2-4: encode + aggregate with both SAEs (cached), contrast, cross-resolution map, outputs. */
    public static Outcome analyze(ExperimentConfig cfg, Captured cap, Progress progress, Map<String, Double> stages) throws IOException {
        try (RunFolder lock = RunFolder.lock(cfg.outDir())) {
            return analyzeLocked(cfg, cap, progress, stages);
        }
    }

    private static Outcome analyzeLocked(ExperimentConfig cfg, Captured cap, Progress progress, Map<String, Double> stages) throws IOException {
        List<PromptSet.Prompt> prompts = cap.prompts();
        int nTarget = cap.nTarget();
        long t = System.nanoTime();
        // each SAE is opened and validated once per run: the encode, the contrast and the map share it
        try (Sae coarseSae = openSae(cfg.coarseSae(), cfg, cap.source()); Sae fineSae = openSae(cfg.fineSae(), cfg, cap.source())) {
            SaeSide coarse = encodeSide("coarse", coarseSae, cfg, cap.source(), cap.bosTokenId(), prompts, nTarget, progress);
            stages.put("encode_coarse", secs(t));
            t = System.nanoTime();
            SaeSide fine = encodeSide("fine", fineSae, cfg, cap.source(), cap.bosTokenId(), prompts, nTarget, progress);
            stages.put("encode_fine", secs(t));

            t = System.nanoTime();
            ContrastStats.Options opts = new ContrastStats.Options(cfg.permutations(), cfg.seed());
            List<FeatureContrast> cStats = ContrastStats.compute(coarse.table, opts);
            List<FeatureContrast> fStats = ContrastStats.compute(fine.table, opts);
            stages.put("contrast", secs(t));
            t = System.nanoTime();
            List<FeatureContrast> anchors = ContrastStats.topBySelectivity(cStats, cfg.minActivation(), cfg.anchors());
            List<FeatureContrast> fines = ContrastStats.topBySelectivity(fStats, cfg.minActivation(), cfg.fineCandidates());
            int[] a = anchors.stream().mapToInt(FeatureContrast::feature).toArray();
            int[] f = fines.stream().mapToInt(FeatureContrast::feature).toArray();
            CrossResolutionMap.Result map = a.length == 0 || f.length == 0
                    ? null
                    : CrossResolutionMap.compute(a, f, coarse.table, fine.table, coarseSae::decoderRow, fineSae::decoderRow, cfg.thresholds());
            // beside the post's rule (which decides): correlation within the target prompts and the facet split
            double[][] within = map == null ? new double[a.length][f.length] : FacetSplit.targetCorrelations(a, f, coarse.table, fine.table);
            FacetSplit.Options splitOpts = FacetSplit.Options.defaults(cfg.thresholds().minCosine(), cfg.minActivation());
            int[] splitCandidates = FacetSplit.candidates(fStats, fine.table.targetCount(), splitOpts, cfg.fineCandidates());
            List<FacetSplit.Row> split = a.length == 0 ? List.of()
                    : FacetSplit.compute(a, splitCandidates, coarse.table, fine.table, coarseSae::decoderRow, fineSae::decoderRow, splitOpts);

            ExperimentResult.SaeResult cRes = saeResult(coarse, cStats, anchors, coarseSae, prompts, opts);
            ExperimentResult.SaeResult fRes = saeResult(fine, fStats, fines, fineSae, prompts, opts);
            try (TopPromptTokens tokens = TopPromptTokens.open(cfg, cap)) { // per-token values of the top prompts, for the report
                cRes = tokens.annotate(cRes, coarseSae);
                fRes = tokens.annotate(fRes, fineSae);
            }
            ExperimentResult.CrossMap cross = crossMap(a, f, map, within, split);
            List<ExperimentResult.PcaPoint> cloud = new ArrayList<>();
            double[] explained = new double[3];
            if (a.length + f.length >= 2) {
                float[][] pts = new float[a.length + f.length][];
                for (int i = 0; i < a.length; i++) pts[i] = coarseSae.decoderRow(a[i]);
                for (int j = 0; j < f.length; j++) pts[a.length + j] = fineSae.decoderRow(f[j]);
                Pca3.Result pca = Pca3.fit(pts);
                explained = pca.explainedVarianceRatio();
                for (int i = 0; i < pts.length; i++) {
                    double[] c = pca.coordinates()[i];
                    cloud.add(new ExperimentResult.PcaPoint(i < a.length ? "coarse" : "fine", i < a.length ? a[i] : f[i - a.length], c[0], c[1], c[2]));
                }
            }
            Verdict verdict = map == null
                    ? new Verdict(Decision.NO_GO, -1, 0, cfg.thresholds().minSubFeatures(),
                    "no feature reached the minimum mean activation of " + cfg.minActivation() + " on the target prompts")
                    : map.verdict();
            ExperimentResult.Config conf = new ExperimentResult.Config(cap.model(), cap.modelSha256(), cap.architecture(), cfg.layer(),
                    "blocks." + cfg.layer() + ".hook_resid_post", info(cfg.coarseSae(), coarseSae, cfg, cap), info(cfg.fineSae(), fineSae, cfg, cap),
                    cap.targetSet(), nTarget, cap.controlSet(), prompts.size() - nTarget, cfg.aggregate().name().toLowerCase(),
                    cfg.thresholds().minCosine(), cfg.thresholds().minCorrelation(), cfg.thresholds().minSubFeatures(), cfg.anchors(),
                    cfg.fineCandidates(), cfg.minActivation(), cfg.permutations(), cfg.seed(), cfg.encoder().toString(), cap.llamaCppCommit(),
                    cap.source().dir().getFileName().toString(), cap.numerics());
            ExperimentResult result = new ExperimentResult(conf, cRes, fRes, cross, cloud, explained, verdict);
            stages.put("crossmap", secs(t));

            t = System.nanoTime();
            writeOutputs(cfg.outDir(), result, new StudyTables.Run(prompts, nTarget,
                    new StudyTables.Side(coarse.table, cStats, coarseSae.dSae(), cfg.minActivation(), coarseSae.cfg().neuronpediaId()),
                    new StudyTables.Side(fine.table, fStats, fineSae.dSae(), cfg.minActivation(), fineSae.cfg().neuronpediaId())));
            stages.put("outputs", secs(t));
            return new Outcome(result, cfg.outDir(), stages, cap.shardsComputed());
        }
    }

    /** Stage 2 alone (`jlens contrast`): per-feature contrast statistics of one SAE, as JSON + CSV. */
    public static ExperimentResult.SaeResult contrastOnly(ExperimentConfig cfg, Captured cap, String saeId, Progress progress) throws IOException {
        try (RunFolder folder = RunFolder.lock(cfg.outDir()); Sae sae = openSae(saeId, cfg, cap.source())) {
            SaeSide side = encodeSide("sae", sae, cfg, cap.source(), cap.bosTokenId(), cap.prompts(), cap.nTarget(), progress);
            ContrastStats.Options opts = new ContrastStats.Options(cfg.permutations(), cfg.seed());
            List<FeatureContrast> stats = ContrastStats.compute(side.table, opts);
            List<FeatureContrast> top = ContrastStats.topBySelectivity(stats, cfg.minActivation(), cfg.fineCandidates());
            ExperimentResult.SaeResult r = saeResult(side, stats, top, sae, cap.prompts(), opts);
            Path staging = folder.stage();
            try {
                Json.writeFile(staging.resolve("contrast.json"), Json.CONTRAST_FORMAT, r);
                StudyTables.Side s = new StudyTables.Side(side.table, stats, sae.dSae(), cfg.minActivation(), sae.cfg().neuronpediaId());
                StudyTables.writeFeatures(staging.resolve("features.csv"), s);
                StudyTables.matrix(side.table, cap.prompts().size(), sae.dSae()).write(staging.resolve("prompt_features.npz"));
                StudyTables.writePrompts(staging.resolve("prompts.csv"), cap.prompts(), cap.nTarget());
                folder.commit(staging, "contrast.json");
            } finally {
                RunFolder.discard(staging);
            }
            return r;
        }
    }

    private record SaeSide(String name, FeatureTable table, Map<String, String> unused) {}

    /** Opens and validates an SAE for the captured activations (its width, its hook): once per SAE and run. */
    private static Sae openSae(String saeId, ExperimentConfig cfg, ActivationSource cache) throws IOException {
        Sae sae = Sae.load(saeId, cfg.layer());
        try {
            sae.validateFor(cache.nEmbd());
            SaeFit.requireCapturePoint(sae.cfg(), saeId, cfg.layer());
            return sae;
        } catch (RuntimeException e) {
            sae.close();
            throw e;
        }
    }

    private static SaeSide encodeSide(String name, Sae sae, ExperimentConfig cfg, ActivationSource cache, int bos,
                                      List<PromptSet.Prompt> prompts, int nTarget, Progress progress) throws IOException {
        String saeSha = saeHash(sae, cfg.cacheDir());
        List<Aggregator.Row> rows;
        try (SaeEncoder enc = sae.encoder(cfg.encoder(), EncoderOptions.defaults().withThreads(cfg.threads()))) {
            // keyed by the encoder actually used ("auto" resolves differently by SAE size), since encoders
            // may round differently at the threshold
            String key = FileHashes.sha256(saeSha + "|" + cfg.aggregate() + "|" + enc.kind()).substring(0, 16);
            Path aggDir = cache.dir().resolve("agg-" + key);
            rows = Aggregator.run(cache, aggDir, enc, bos, cfg.aggregate(), (s, d, n) -> progress.update("encode " + name, d, n));
        }
        FeatureTable table = new FeatureTable();
        for (Aggregator.Row r : rows) {
            boolean isTarget = r.prompt() < nTarget;
            String facet = isTarget ? prompts.get(r.prompt()).facet() : null;
            table.add(new PromptActivations(r.prompt(), isTarget ? Label.TARGET : Label.CONTROL, facet, r.features(), r.values()));
        }
        return new SaeSide(name, table, Map.of());
    }

    /** SHA-256 over the SAE's weight files (params.npz, or the SAELens dir's safetensors + cfg.json). */
    static String saeHash(Sae sae, Path cacheDir) throws IOException {
        return FileHashes.ofSource(sae.source(), cacheDir);
    }

    private static ExperimentResult.SaeInfo info(String id, Sae sae, ExperimentConfig cfg, Captured cap) throws IOException {
        var n = sae.decoderRowNorms();
        SaeFit.ModelCheck model = SaeFit.checkModel(sae.cfg(), id, modelIdentity(cap.model()));
        return new ExperimentResult.SaeInfo(id, sae.source().toString(), saeHash(sae, cfg.cacheDir()), sae.dIn(), sae.dSae(),
                sae.cfg().neuronpediaId(), n.min(), n.max(), sae.cfg().architecture(), sae.cfg().hookName(), sae.cfg().modelName(),
                model.match().name());
    }

    /** The GGUF's names when the model file is on this machine (capture folders record its path), else null. */
    private static ModelIdentity modelIdentity(String model) {
        try {
            Path p = Path.of(model);
            return Files.isRegularFile(p) ? ModelIdentity.read(p) : null;
        } catch (IOException | RuntimeException e) {
            return null; // not a GGUF we can read: the match is UNKNOWN
        }
    }

    /** Significance level of the report's count of significant features and of the permutation check. */
    static final double ALPHA = 0.05;
    static final String TEST = "two-sided Mann-Whitney U (exact without ties in small samples, tie-corrected normal approximation "
            + "otherwise), Benjamini-Hochberg over the tested features; permutation test of the mean difference as a check";

    private static ExperimentResult.SaeResult saeResult(SaeSide side, List<FeatureContrast> stats, List<FeatureContrast> topSel, Sae sae,
                                                        List<PromptSet.Prompt> prompts, ContrastStats.Options opts) {
        ContrastStats.Significance sig = ContrastStats.significance(stats, side.table().targetCount(), side.table().controlCount(), opts, ALPHA);
        ExperimentResult.Significance significance = new ExperimentResult.Significance(TEST, sig.alpha(), sig.tested(), sig.smallestP(),
                sig.smallestQ(), sig.permutations(), sig.permutationSmallestP(), sig.significant(), sig.confirmed());
        List<FeatureContrast> topEff = ContrastStats.topByEffectSize(stats, topSel.size());
        Set<Integer> ids = new LinkedHashSet<>();
        topSel.forEach(s -> ids.add(s.feature()));
        topEff.forEach(s -> ids.add(s.feature()));
        Map<Integer, FacetProfile> profiles = new HashMap<>();
        // facet profiles need facet labels on the target prompts; a user's own concept set may have none
        if (!side.table().targetFacets().isEmpty()) {
            for (FacetProfile fp : FacetProfile.compute(side.table(), ids.stream().mapToInt(Integer::intValue).toArray(), FacetProfile.DEFAULT_DOMINANCE)) {
                profiles.put(fp.feature(), fp);
            }
        }
        return new ExperimentResult.SaeResult(side.table().activeFeatureCount(), side.table().activationCount(), significance,
                topSel.stream().map(s -> feature(s, side.table(), profiles.get(s.feature()), sae, prompts)).toList(),
                topEff.stream().map(s -> feature(s, side.table(), profiles.get(s.feature()), sae, prompts)).toList());
    }

    private static FeatureStats feature(FeatureContrast s, FeatureTable table, FacetProfile fp, Sae sae, List<PromptSet.Prompt> prompts) {
        int[] rows = table.firedRows(s.feature());
        float[] vals = table.firedValues(s.feature());
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) order.add(i);
        order.sort(Comparator.comparingDouble((Integer i) -> -vals[i]).thenComparingInt(i -> table.promptIndex(rows[i])));
        List<FeatureStats.TopPrompt> top = new ArrayList<>();
        for (int k = 0; k < Math.min(TOP_PROMPTS, order.size()); k++) {
            int row = rows[order.get(k)];
            int p = table.promptIndex(row);
            top.add(new FeatureStats.TopPrompt(p, prompts.get(p).text(), prompts.get(p).facet(), vals[order.get(k)]));
        }
        String np = sae.cfg().neuronpediaId();
        return new FeatureStats(s.feature(), s.meanTarget(), s.meanControl(), s.fireRateTarget(), s.fireRateControl(),
                s.selectivity(), s.auroc(), s.pValue(), s.qValue(), s.effectSize(), s.permutationPValue(), FacetSplit.meanWhenFiring(s),
                fp == null ? null : fp.likelyFacet(),
                fp == null ? Map.of() : fp.meanByFacet(), top, np == null ? null : "https://www.neuronpedia.org/" + np + "/" + s.feature());
    }

    private static ExperimentResult.CrossMap crossMap(int[] a, int[] f, CrossResolutionMap.Result map, double[][] within,
                                                      List<FacetSplit.Row> split) {
        double[][] cos = new double[a.length][f.length];
        double[][] corr = new double[a.length][f.length];
        List<FeaturePair> pairs = new ArrayList<>();
        List<ExperimentResult.Anchor> summaries = new ArrayList<>();
        if (map != null) {
            Map<Long, CrossResolutionMap.Pair> byKey = new HashMap<>();
            for (CrossResolutionMap.Pair p : map.pairs()) byKey.put(((long) p.anchor() << 32) | p.fine(), p);
            for (int i = 0; i < a.length; i++) {
                for (int j = 0; j < f.length; j++) {
                    CrossResolutionMap.Pair p = byKey.get(((long) a[i] << 32) | f[j]);
                    cos[i][j] = p.cosine();
                    corr[i][j] = p.correlation();
                    pairs.add(new FeaturePair(p.anchor(), p.fine(), p.correlation(), p.cosine(), p.classification(), within[i][j]));
                }
            }
            for (CrossResolutionMap.AnchorSummary s : map.anchors()) {
                var st = s.strongest();
                summaries.add(new ExperimentResult.Anchor(s.anchor(), s.matches(), s.coOccurring(), s.geometricOnly(),
                        st == null ? null : st.fine(), st == null ? null : st.cosine(), st == null ? null : st.correlation()));
            }
        }
        List<ExperimentResult.FacetSplitRow> rows = split.stream().map(r -> new ExperimentResult.FacetSplitRow(r.anchor(), r.fine(), r.facet(),
                r.facetShare(), r.facetCoverage(), r.fireRateTarget(), r.fireRateControl(), r.meanWhenFiring(), r.cosine(), r.correlation(),
                r.targetCorrelation())).toList();
        return new ExperimentResult.CrossMap(a, f, cos, corr, pairs, summaries, within, rows);
    }

    /**
     * Writes results.json, the CSVs and the report into a staging folder inside {@code dir} and moves them in, results.json
     * last: a failure (a bad neuronpedia_id found by the report, a full disk, a kill) leaves the folder's previous outputs
     * or none, never a mix.
     */
    static void writeOutputs(Path dir, ExperimentResult r, StudyTables.Run tables) throws IOException {
        try (RunFolder folder = RunFolder.lock(dir)) {
            Path staging = folder.stage();
            try {
                ReportWriter.model(r, null); // checks what the report checks (e.g. neuronpedia_id) before any file is written
                writeFiles(staging, dir, r, tables);
                folder.commit(staging, "results.json");
            } finally {
                RunFolder.discard(staging);
            }
        }
    }

    private static void writeFiles(Path dir, Path runDir, ExperimentResult r, StudyTables.Run t) throws IOException {
        Json.writeFile(dir.resolve("results.json"), Json.RESULTS_FORMAT, r);
        StudyTables.writeFeatures(dir.resolve("features_coarse.csv"), t.coarse());
        StudyTables.writeFeatures(dir.resolve("features_fine.csv"), t.fine());
        StudyTables.writePrompts(dir.resolve("prompts.csv"), t.prompts(), t.nTarget());
        StudyTables.matrix(t.coarse().table(), t.prompts().size(), t.coarse().dSae()).write(dir.resolve("prompt_features_coarse.npz"));
        StudyTables.matrix(t.fine().table(), t.prompts().size(), t.fine().dSae()).write(dir.resolve("prompt_features_fine.npz"));
        StringBuilder b = new StringBuilder(Csv.row("anchor", "fine", "correlation", "cosine", "classification"));
        for (FeaturePair p : r.crossmap().pairs()) b.append(Csv.row(p.anchor(), p.fine(), p.correlation(), p.cosine(), p.classification()));
        AtomicFiles.writeStream(dir.resolve("pairs.csv"), os -> os.write(b.toString().getBytes(StandardCharsets.UTF_8)));
        StringBuilder s = new StringBuilder(Csv.row("anchor", "fine", "facet", "facet_share", "facet_coverage", "fire_rate_target",
                "fire_rate_control", "mean_when_firing", "cosine", "correlation", "target_correlation"));
        for (ExperimentResult.FacetSplitRow x : r.crossmap().facetSplit()) {
            s.append(Csv.row(x.anchor(), x.fine(), x.facet(), x.facetShare(), x.facetCoverage(), x.fireRateTarget(), x.fireRateControl(),
                    x.meanWhenFiring(), x.cosine(), x.correlation(), x.targetCorrelation()));
        }
        AtomicFiles.writeStream(dir.resolve("facet_split.csv"), os -> os.write(s.toString().getBytes(StandardCharsets.UTF_8)));
        ReportWriter.writeFiles(dir, runDir, r, null);
    }

    private static double secs(long t0) { return (System.nanoTime() - t0) / 1e9; }

    static void log(String msg) { LOG.log(System.Logger.Level.INFO, msg); }
}
