package dev.jlens.study.steering;

import dev.jlens.activations.CaptureSource;
import dev.jlens.activations.TokenizedPrompts;
import dev.jlens.api.EncoderKind;
import dev.jlens.api.SteeringStudy;

import dev.jlens.analysis.PromptSet;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.Csv;
import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Generation;
import dev.jlens.llama.Model;
import dev.jlens.llama.Steering;
import dev.jlens.util.Json;
import dev.jlens.util.Progress;
import dev.jlens.util.RunFolder;
import dev.jlens.study.ReportWriter;
import dev.jlens.api.SteeringVerdict;
import dev.jlens.report.ReportModel;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SparseCodes;
import dev.jlens.study.steering.SteeringVector.Request;
import dev.jlens.study.steering.SteeringVector.Resolution;
import dev.jlens.study.steering.SteeringVector.Strength;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * Phase 2 of the France study: does steering with coarse + fine SAE features target a facet better than the
 * coarse feature alone, at equal fluency? Continues neutral prompts under each condition and strength, scores
 * every continuation with the UNSTEERED model (re-encoded SAE activations, lexicon rates, teacher-forced
 * perplexity, repetition), aggregates with seeded bootstrap intervals and writes steering.json,
 * generations.csv and the report's steering section.
 *
 * <p>The run holds its output folder's {@link RunFolder} lock from the start (a second run into the folder fails
 * before any work, exit 2 naming it) and writes its outputs into a staging folder that is moved in with
 * steering.json last, so a folder holding steering.json holds the complete set of one run.
 */
public final class SteeringExperiment {
    private static final System.Logger LOG = System.getLogger(SteeringExperiment.class.getName());

    /** Conditions besides the shared unsteered baseline, in report order. */
    public static final List<String> CONDITIONS = List.of("coarse", "fine", "fine-all", "coarse+fine", "random");
    public static final String NONE = "none";
    /** Repetition is measured on token bigrams. */
    public static final int REPETITION_N = 2;

    private SteeringExperiment() {}

    /**
     * Scores of one continuation, all measured without steering.
     *
     * @param concept         max over the continuation's tokens of the coarse anchor's re-encoded activation
     * @param franceRate      fraction of the continuation's words in the France lexicon
     * @param targetFine      max over the continuation's tokens of the target fine feature's activation
     * @param targetFacetRate fraction of words in the target facet's lexicon
     * @param fineActivation  per matched fine feature, its max activation over the continuation
     * @param facetRate       per lexicon facet, its word rate
     * @param perplexity      exp(mean −log p) of the continuation under the unsteered model; NaN for an empty continuation
     * @param repetition      fraction of repeated token bigrams
     */
    public record Scores(double concept, double franceRate, double targetFine, double targetFacetRate, Map<Integer, Double> fineActivation,
                         Map<String, Double> facetRate, double perplexity, double repetition) {}

    public record GenerationRecord(String condition, double strength, long seed, int promptIndex, String prompt, String text,
                                   int tokens, String stop, Scores scores) {}

    public record VectorInfo(String condition, double strength, double norm, List<SteeringVector.Term> terms) {}

    /** One condition x strength: means with 95% bootstrap intervals over its generations. */
    public record Cell(String condition, double strength, int generations, Metrics.Estimate concept, Metrics.Estimate franceRate,
                       Metrics.Estimate targetFine, Metrics.Estimate targetFacetRate, Metrics.Estimate perplexity,
                       Metrics.Estimate repetition, Map<Integer, Double> meanFineActivation, Map<String, Double> meanFacetRate) {}

    public record Summary(String model, String coarseSae, String fineSae, int layer, String mode, int prompts, long[] seeds,
                          double[] strengths, int maxTokens, float temperature, int topK, float topP, int bootstrapResamples, long seed,
                          double fluencyTolerance, String typicalActivation, int repetitionN) {}

    /**
     * What steering.json holds.
     *
     * @param cells the unsteered baseline once (condition {@value #NONE}, strength 0: strength 0 of every condition),
     *              then each condition at each strength above 0, in {@link #CONDITIONS} order ({@link #find} maps a
     *              condition at strength 0 to the baseline)
     */
    public record Result(Summary config, SteeringPlan plan, List<VectorInfo> vectors, List<Cell> cells, SteeringVerdict verdict) {}

    public record Outcome(Result result, List<GenerationRecord> generations, Path outDir) {}

    public static Outcome run(SteeringConfig cfg, Progress progress) throws IOException {
        try (RunFolder lock = RunFolder.lock(cfg.outDir())) { // a second run into this folder fails before any work
            return runLocked(cfg, progress);
        }
    }

    private static Outcome runLocked(SteeringConfig cfg, Progress progress) throws IOException {
        Lexicon lexicon = Lexicon.builtin();
        SteeringPlan plan = cfg.plan();
        if (!lexicon.facets().containsKey(plan.targetFacet())) {
            throw new IllegalArgumentException("target facet '" + plan.targetFacet() + "' has no lexicon (lexicon facets: "
                    + lexicon.facets().keySet() + "); pick another target fine feature");
        }
        List<PromptSet.Prompt> neutral = PromptSet.builtin("neutral").prompts();
        if (cfg.prompts() > neutral.size()) {
            throw new IllegalArgumentException("asked for " + cfg.prompts() + " prompts, the neutral set has " + neutral.size());
        }
        neutral = neutral.subList(0, cfg.prompts());
        dev.jlens.formats.GgufSlice.refuseSlice(cfg.model(), "steering"); // a slice stops after layer L+1: generation would be nonsense
        try (Model model = Model.load(cfg.model()); Sae coarse = Sae.load(cfg.coarseSae()); Sae fine = Sae.load(cfg.fineSae());
             SaeEncoder coarseEnc = coarse.encoder(EncoderKind.AUTO); SaeEncoder fineEnc = fine.encoder(EncoderKind.AUTO);
             Context ctx = model.newContext(contextParams(cfg))) {
            coarse.validateFor(model.nEmbd());
            fine.validateFor(model.nEmbd());
            if (cfg.layer() >= model.nLayer()) {
                throw new IllegalArgumentException("steering layer " + cfg.layer() + " is out of range: the model has layers 1.." + (model.nLayer() - 1) + " to steer");
            }
            checkFeature(coarse, "coarse", plan.anchor());
            for (int f : plan.matchedFines().keySet()) checkFeature(fine, "fine", f);
            // the one tokenize-and-validate step of every capture; a continuation must fit the context too
            TokenizedPrompts tokenized = CaptureSource.tokenize(model.vocab(), neutral.stream().map(PromptSet.Prompt::text).toList(), cfg.nCtx());
            List<int[]> prompts = tokenized.tokens();
            for (int i = 0; i < prompts.size(); i++) {
                int[] t = prompts.get(i);
                if (t.length + cfg.maxTokens() > cfg.nCtx()) {
                    throw new IllegalArgumentException("prompt \"" + neutral.get(i).text() + "\" (" + t.length + " tokens) + " + cfg.maxTokens() + " new tokens exceed the context of " + cfg.nCtx());
                }
            }
            CaptureSource source = new CaptureSource(ctx, cfg.layer());
            Scorer scorer = new Scorer(ctx, source, coarseEnc, fineEnc, plan, lexicon);
            Vectors vectors = new Vectors(cfg, coarse, fine, cfg.mode() == SteeringStudy.Mode.DELTA ? meanResidual(source, tokenized, cfg.layer()) : null);

            double[] strengths = cfg.strengths();
            long[] seeds = cfg.seeds();
            int steered = 0;
            for (double s : strengths) if (s > 0) steered++;
            long total = (long) prompts.size() * seeds.length * (1 + (long) steered * CONDITIONS.size());
            long[] done = {0};
            List<GenerationRecord> gens = new ArrayList<>();
            List<VectorInfo> infos = new ArrayList<>();
            // the unsteered baseline is strength 0 of every condition: generated once
            gens.addAll(generate(ctx, cfg, NONE, 0, null, neutral, prompts, scorer, progress, done, total));
            for (int si = 0; si < strengths.length; si++) {
                double s = strengths[si];
                if (s == 0) continue;
                Map<String, SteeringVector> byCondition = vectors.at(s, si);
                for (String c : CONDITIONS) {
                    SteeringVector v = byCondition.get(c);
                    infos.add(new VectorInfo(c, s, v.norm(), v.terms()));
                    gens.addAll(generate(ctx, cfg, c, s, v, neutral, prompts, scorer, progress, done, total));
                }
            }
            List<Cell> cells = aggregate(cfg, plan, lexicon, gens);
            SteeringVerdict verdict = verdict(cfg, plan, cells);
            LOG.log(System.Logger.Level.INFO, "steering verdict: {0}", verdict.sentence());
            Result result = new Result(summary(cfg), plan, infos, cells, verdict);
            write(cfg, result, gens, plan, lexicon);
            return new Outcome(result, gens, cfg.outDir());
        }
    }

    private static void checkFeature(Sae sae, String which, int f) {
        if (f < 0 || f >= sae.dSae()) throw new IllegalArgumentException(which + " SAE feature " + f + " is out of range [0, " + sae.dSae() + ")");
    }

    /**
     * Generation and scoring run with the numerics of the experiment they continue: its results.json's K/V cache type
     * (f32 by default, f16 after {@code --fast-kv}), so the re-encoded residuals are those the features were selected on;
     * the f32 default when the results predate recorded numerics.
     */
    static Context.Params contextParams(SteeringConfig cfg) {
        var n = cfg.results() == null ? null : cfg.results().config().numerics();
        return Context.Params.defaults().withCtx(cfg.nCtx()).withUbatch(Math.min(512, cfg.nCtx())).withSeqMax(Math.min(16, cfg.nCtx()))
                .withThreads(cfg.threads()).withFastKv(n != null && "f16".equals(n.kvCacheType()));
    }

    /**
     * Mean residual at {@code layer} over the prompts' tokens, captured through {@code source} (BOS rows excluded, by
     * position as {@link TokenizedPrompts#isBosRow} decides: BOS carries no prompt content).
     */
    static float[] meanResidual(CaptureSource source, TokenizedPrompts prompts, int layer) {
        double[] acc;
        int d;
        long n = 0;
        try (Activations a = source.captureAll(prompts.tokens())) {
            d = a.nEmbd();
            acc = new double[d];
            for (int r = 0; r < a.rows(); r++) {
                if (prompts.isBosRow(a.promptOf(r), a.positionOf(r))) continue;
                float[] row = a.row(layer, r);
                for (int k = 0; k < d; k++) acc[k] += row[k];
                n++;
            }
        }
        if (n == 0) throw new IllegalArgumentException("the neutral prompts have no token besides BOS: no reference activation");
        float[] out = new float[d];
        for (int k = 0; k < d; k++) out[k] = (float) (acc[k] / n);
        return out;
    }

    /** Builds each condition's vector at a strength (a multiple of the typical activations). */
    static final class Vectors {
        private final SteeringConfig cfg;
        private final Sae coarse, fine;
        private final float[] reference;

        Vectors(SteeringConfig cfg, Sae coarse, Sae fine, float[] reference) {
            this.cfg = cfg;
            this.coarse = coarse;
            this.fine = fine;
            this.reference = reference;
        }

        Map<String, SteeringVector> at(double s, int strengthIndex) {
            SteeringPlan p = cfg.plan();
            List<Request> coarseOnly = List.of(new Request(Resolution.COARSE, p.anchor(), Strength.times(s)));
            List<Request> fineOne = List.of(new Request(Resolution.FINE, p.targetFine(), Strength.times(s)));
            List<Request> fineAll = p.matchedFines().keySet().stream().map(f -> new Request(Resolution.FINE, f, Strength.times(s))).toList();
            List<Request> both = List.of(coarseOnly.get(0), fineOne.get(0));
            Map<String, SteeringVector> out = new LinkedHashMap<>();
            out.put("coarse", make("coarse", coarseOnly));
            out.put("fine", make("fine", fineOne));
            out.put("fine-all", make("fine-all", fineAll));
            SteeringVector cf = make("coarse+fine", both);
            out.put("coarse+fine", cf);
            // one random direction per strength, reproducible from the run seed
            out.put("random", SteeringVector.randomLike("random", cf, cfg.seed() * 1_000_003L + strengthIndex));
            return out;
        }

        private SteeringVector make(String label, List<Request> requests) {
            if (reference == null) return SteeringVector.build(label, coarse, fine, requests, cfg.plan().typical());
            List<SteeringVector.Clamp> clamps = new ArrayList<>();
            for (Request r : requests) {
                double v = r.strength().value() * cfg.plan().typical().of(r.sae(), r.feature());
                clamps.add(new SteeringVector.Clamp(r.sae(), r.feature(), (float) v));
            }
            return SteeringVector.delta(label, coarse, fine, reference, clamps);
        }
    }

    private static List<GenerationRecord> generate(Context ctx, SteeringConfig cfg, String condition, double strength, SteeringVector v,
                                                   List<PromptSet.Prompt> texts, List<int[]> prompts, Scorer scorer,
                                                   Progress progress, long[] done, long total) {
        List<Generation.Result> results = new ArrayList<>();
        // generate everything under one steering scope, then score with the scope closed (scores are unsteered)
        Steering scope = v == null ? null : ctx.steer(v.values(), cfg.layer());
        try {
            for (int p = 0; p < prompts.size(); p++) {
                for (long seed : cfg.seeds()) {
                    Generation.Params gp = new Generation.Params(cfg.maxTokens(), cfg.temperature(), cfg.topK(), cfg.topP(), seed, List.of());
                    results.add(Generation.generate(ctx, prompts.get(p), gp, null));
                    progress.update("generate " + condition + " x" + fmt(strength), ++done[0], total);
                }
            }
        } finally {
            if (scope != null) scope.close();
        }
        List<GenerationRecord> out = new ArrayList<>();
        int k = 0;
        for (int p = 0; p < prompts.size(); p++) {
            for (long seed : cfg.seeds()) {
                Generation.Result r = results.get(k++);
                out.add(new GenerationRecord(condition, strength, seed, p, texts.get(p).text(), r.text(), r.tokens().length,
                        r.stopReason().name(), scorer.score(prompts.get(p), r)));
            }
        }
        return out;
    }

    /** Scores a continuation on the unsteered context; its residuals come through the one capture path, {@code source}. */
    static final class Scorer {
        private final Context ctx;
        private final CaptureSource source;
        private final SaeEncoder coarse, fine;
        private final SteeringPlan plan;
        private final Lexicon lexicon;

        Scorer(Context ctx, CaptureSource source, SaeEncoder coarse, SaeEncoder fine, SteeringPlan plan, Lexicon lexicon) {
            this.ctx = ctx;
            this.source = source;
            this.coarse = coarse;
            this.fine = fine;
            this.plan = plan;
            this.lexicon = lexicon;
        }

        Scores score(int[] prompt, Generation.Result r) {
            int[] gen = r.tokens();
            Map<String, Double> facetRate = new LinkedHashMap<>();
            for (String f : lexicon.facets().keySet()) facetRate.put(f, lexicon.facetRate(r.text(), f));
            Map<Integer, Double> fineAct = new LinkedHashMap<>();
            if (gen.length == 0) {
                for (int f : plan.matchedFines().keySet()) fineAct.put(f, 0.0);
                return new Scores(0, 0, 0, 0, fineAct, facetRate, Double.NaN, 0);
            }
            int[] seq = new int[prompt.length + gen.length];
            System.arraycopy(prompt, 0, seq, 0, prompt.length);
            System.arraycopy(gen, 0, seq, prompt.length, gen.length);
            int d = ctx.model().nEmbd();
            float[] x = new float[gen.length * d];
            List<int[]> one = List.of(seq);
            try (Activations a = source.capture(one, new CaptureSource.Batch(0, 1))) {
                MemorySegment m = a.data();
                MemorySegment.copy(m, JAVA_FLOAT, (long) prompt.length * d * 4, x, 0, gen.length * d);
            }
            SparseCodes cc = coarse.encode(x, gen.length);
            SparseCodes fc = fine.encode(x, gen.length);
            double concept = 0;
            for (int t = 0; t < gen.length; t++) concept = Math.max(concept, cc.value(t, plan.anchor()));
            for (int f : plan.matchedFines().keySet()) {
                double mx = 0;
                for (int t = 0; t < gen.length; t++) mx = Math.max(mx, fc.value(t, f));
                fineAct.put(f, mx);
            }
            double ppl = Metrics.perplexity(ctx.logitsForSequence(seq), seq, prompt.length);
            return new Scores(concept, lexicon.franceRate(r.text()), fineAct.get(plan.targetFine()), facetRate.get(plan.targetFacet()),
                    fineAct, facetRate, ppl, Metrics.repetitionRate(gen, REPETITION_N));
        }
    }

    private static List<Cell> aggregate(SteeringConfig cfg, SteeringPlan plan, Lexicon lexicon, List<GenerationRecord> gens) {
        List<Cell> cells = new ArrayList<>();
        List<GenerationRecord> none = gens.stream().filter(g -> g.condition().equals(NONE)).toList();
        cells.add(cell(cfg, NONE, 0, none, plan, lexicon, 0));
        int c = 1;
        for (String cond : CONDITIONS) {
            for (double s : cfg.strengths()) {
                int index = c++; // each cell's bootstrap seed, counted over every strength as before the baseline was stored once
                if (s == 0) continue; // the baseline: stored once, above
                List<GenerationRecord> gs = gens.stream().filter(g -> g.condition().equals(cond) && g.strength() == s).toList();
                cells.add(cell(cfg, cond, s, gs, plan, lexicon, index));
            }
        }
        return cells;
    }

    private static Cell cell(SteeringConfig cfg, String cond, double s, List<GenerationRecord> gs, SteeringPlan plan, Lexicon lexicon, int index) {
        long seed = cfg.seed() + 7919L * index;
        int b = cfg.bootstrapResamples();
        Map<Integer, Double> fineMeans = new LinkedHashMap<>();
        for (int f : plan.matchedFines().keySet()) fineMeans.put(f, gs.stream().mapToDouble(g -> g.scores().fineActivation().get(f)).average().orElse(Double.NaN));
        Map<String, Double> facetMeans = new LinkedHashMap<>();
        for (String f : lexicon.facets().keySet()) facetMeans.put(f, gs.stream().mapToDouble(g -> g.scores().facetRate().get(f)).average().orElse(Double.NaN));
        return new Cell(cond, s, gs.size(),
                Metrics.bootstrap(gs.stream().mapToDouble(g -> g.scores().concept()).toArray(), b, seed),
                Metrics.bootstrap(gs.stream().mapToDouble(g -> g.scores().franceRate()).toArray(), b, seed + 1),
                Metrics.bootstrap(gs.stream().mapToDouble(g -> g.scores().targetFine()).toArray(), b, seed + 2),
                Metrics.bootstrap(gs.stream().mapToDouble(g -> g.scores().targetFacetRate()).toArray(), b, seed + 3),
                Metrics.bootstrap(gs.stream().mapToDouble(g -> g.scores().perplexity()).filter(Double::isFinite).toArray(), b, seed + 4),
                Metrics.bootstrap(gs.stream().mapToDouble(g -> g.scores().repetition()).toArray(), b, seed + 5),
                fineMeans, facetMeans);
    }

    /** The cell of a condition at a strength; at strength 0 every condition's cell is the unsteered baseline's. */
    static Cell find(List<Cell> cells, String cond, double s) {
        String condition = s == 0 ? NONE : cond;
        for (Cell c : cells) if (c.condition().equals(condition) && c.strength() == s) return c;
        throw new IllegalStateException("no cell " + cond + " x" + s);
    }

    /**
     * Multi-resolution beats single-resolution at strength s when coarse+fine's target-fine activation interval lies
     * entirely above coarse-only's, and the fluency is equal: mean perplexities differ by at most the tolerance
     * (a fraction of coarse-only's). The sentence reports the strength with the largest such margin, or, when
     * none qualifies, the strongest strength with the reason.
     */
    static SteeringVerdict verdict(SteeringConfig cfg, SteeringPlan plan, List<Cell> cells) {
        String rule = String.format(Locale.ROOT, "better: coarse+fine's 95%% bootstrap CI of the target fine feature's re-encoded activation "
                + "(feature %d, facet %s) lies above coarse-only's; equal fluency: |ppl(coarse+fine) - ppl(coarse)| <= %.0f%% of ppl(coarse)",
                plan.targetFine(), plan.targetFacet(), 100 * cfg.fluencyTolerance());
        SteeringVerdict best = null;
        double bestMargin = Double.NEGATIVE_INFINITY;
        SteeringVerdict last = null;
        for (double s : cfg.strengths()) {
            if (s == 0) continue;
            Cell c = find(cells, "coarse", s), cf = find(cells, "coarse+fine", s);
            double pc = c.perplexity().mean(), pcf = cf.perplexity().mean();
            boolean equal = Double.isFinite(pc) && Double.isFinite(pcf) && Math.abs(pcf - pc) <= cfg.fluencyTolerance() * pc;
            boolean better = cf.targetFine().ciLow() > c.targetFine().ciHigh();
            String numbers = String.format(Locale.ROOT, "at %sx typical activation, coarse+fine raised the target fine feature %d (%s) to %.3f [%.3f, %.3f] "
                            + "vs coarse-only %.3f [%.3f, %.3f] (facet word rate %.3f vs %.3f), perplexity %.2f vs %.2f (%+.1f%%)",
                    fmt(s), plan.targetFine(), plan.targetFacet(), cf.targetFine().mean(), cf.targetFine().ciLow(), cf.targetFine().ciHigh(),
                    c.targetFine().mean(), c.targetFine().ciLow(), c.targetFine().ciHigh(), cf.targetFacetRate().mean(), c.targetFacetRate().mean(),
                    pcf, pc, 100 * (pcf - pc) / pc);
            if (better && equal) {
                double margin = cf.targetFine().ciLow() - c.targetFine().ciHigh();
                if (margin > bestMargin) {
                    bestMargin = margin;
                    best = new SteeringVerdict(SteeringVerdict.Decision.MULTI_RESOLUTION_BETTER, s, "Multi-resolution steering beat coarse-only on facet targeting at equal fluency: " + numbers + ".", rule);
                }
            } else {
                String why = !better ? "the intervals overlap or coarse-only is higher" : "fluency is not equal";
                last = new SteeringVerdict(SteeringVerdict.Decision.NOT_SHOWN, s, "Multi-resolution steering did not beat coarse-only at equal fluency (" + why + "): " + numbers + ".", rule);
            }
        }
        if (best != null) return best;
        if (last != null) return last;
        return new SteeringVerdict(SteeringVerdict.Decision.NOT_SHOWN, 0, "No steered strength was run (only strength 0), so nothing was compared.", rule);
    }

    private static Summary summary(SteeringConfig c) {
        return new Summary(c.model().toString(), c.coarseSae(), c.fineSae(), c.layer(), c.mode().name(), c.prompts(), c.seeds(), c.strengths(),
                c.maxTokens(), c.temperature(), c.topK(), c.topP(), c.bootstrapResamples(), c.seed(), c.fluencyTolerance(),
                c.plan().typical().source(), REPETITION_N);
    }

    /**
     * Writes steering.json, generations.csv and (with results) the report into a staging folder of the locked run folder
     * and moves them in with steering.json last: a run killed on the way leaves no steering.json of its own (a previous
     * run's is deleted before anything moves), and the next run removes the staging folder.
     */
    private static void write(SteeringConfig cfg, Result result, List<GenerationRecord> gens, SteeringPlan plan, Lexicon lexicon) throws IOException {
        try (RunFolder folder = RunFolder.lock(cfg.outDir())) {
            Path staging = folder.stage();
            try {
                writeFiles(staging, folder.dir(), cfg, result, gens, plan, lexicon);
                folder.commit(staging, "steering.json");
            } finally {
                RunFolder.discard(staging);
            }
        }
    }

    private static void writeFiles(Path dir, Path runDir, SteeringConfig cfg, Result result, List<GenerationRecord> gens, SteeringPlan plan,
                                   Lexicon lexicon) throws IOException {
        Json.writeFile(dir.resolve("steering.json"), Json.STEERING_FORMAT, result); // snake_case keys and a format, as every result file (util.Json)
        List<Object> header = new ArrayList<>(List.of("condition", "strength", "seed", "prompt_index", "prompt", "text", "tokens", "stop",
                "concept", "france_rate", "target_fine", "target_facet_rate", "perplexity", "repetition"));
        for (int f : plan.matchedFines().keySet()) header.add("fine_" + f + "_" + plan.matchedFines().get(f));
        for (String f : lexicon.facets().keySet()) header.add("rate_" + f);
        StringBuilder csv = new StringBuilder(Csv.row(header.toArray()));
        for (GenerationRecord g : gens) {
            Scores s = g.scores();
            List<Object> row = new ArrayList<>(List.of(g.condition(), g.strength(), g.seed(), g.promptIndex(), g.prompt(), g.text(), g.tokens(), g.stop(),
                    s.concept(), s.franceRate(), s.targetFine(), s.targetFacetRate(), s.perplexity(), s.repetition()));
            row.addAll(s.fineActivation().values());
            row.addAll(s.facetRate().values());
            csv.append(Csv.row(row.toArray()));
        }
        AtomicFiles.writeString(dir.resolve("generations.csv"), csv.toString());
        if (cfg.results() == null) {
            LOG.log(System.Logger.Level.INFO, "no results.json given: steering.json and generations.csv written, report skipped");
            return;
        }
        ReportWriter.writeFiles(dir, runDir, cfg.results(), reportSection(cfg, result, gens));
    }

    /** Curves of the concept score and of the facet-targeting score per condition, and example generations. */
    static ReportModel.Steering reportSection(SteeringConfig cfg, Result result, List<GenerationRecord> gens) {
        List<ReportModel.Curve> curves = new ArrayList<>();
        double[] s = cfg.strengths();
        for (String cond : CONDITIONS) {
            for (String metric : List.of("concept", "facet")) {
                double[] m = new double[s.length], lo = new double[s.length], hi = new double[s.length];
                for (int i = 0; i < s.length; i++) {
                    Cell c = find(result.cells(), cond, s[i]);
                    Metrics.Estimate e = metric.equals("concept") ? c.concept() : c.targetFine();
                    m[i] = e.mean();
                    lo[i] = e.ciLow();
                    hi[i] = e.ciHigh();
                }
                String name = cond + (metric.equals("concept") ? ": coarse France activation" : ": fine " + cfg.plan().targetFine() + " (" + cfg.plan().targetFacet() + ")");
                curves.add(new ReportModel.Curve(name, s, m, lo, hi));
            }
        }
        List<ReportModel.Generation> examples = new ArrayList<>();
        Map<String, Integer> taken = new LinkedHashMap<>();
        for (GenerationRecord g : gens) {
            String key = g.condition() + "@" + g.strength();
            int n = taken.getOrDefault(key, 0);
            if (n >= cfg.examplesPerCondition()) continue;
            taken.put(key, n + 1);
            examples.add(new ReportModel.Generation(g.condition(), g.strength(), g.prompt() + " ▸" + g.text()));
        }
        List<ReportModel.SteeringCell> table = new ArrayList<>(); // the report's verdict and interval table (issue 18)
        for (Cell c : result.cells()) {
            table.add(new ReportModel.SteeringCell(c.condition(), c.strength(), c.generations(), interval(c.concept()), interval(c.targetFine()),
                    interval(c.targetFacetRate()), interval(c.perplexity()), interval(c.repetition())));
        }
        return new ReportModel.Steering(curves, examples, result.verdict(), table);
    }

    private static ReportModel.Interval interval(Metrics.Estimate e) {
        return new ReportModel.Interval(e.mean(), e.ciLow(), e.ciHigh());
    }

    static String fmt(double s) {
        return s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s);
    }
}
