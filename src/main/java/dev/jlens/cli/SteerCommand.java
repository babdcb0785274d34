package dev.jlens.cli;

import dev.jlens.api.Experiment;
import dev.jlens.api.SteeringStudy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "steer", mixinStandardHelpOptions = true,
        description = {"Phase 2 of the France study: steer generation under each condition - coarse (the coarse France feature), "
                + "fine (one fine facet feature), fine-all (all the anchor's fine matches), coarse+fine (both), random (a random direction "
                + "of equal norm) - over a strength sweep; score every continuation with the unsteered model; say whether coarse+fine "
                + "targets the facet better than coarse alone at equal fluency. Writes steering.json, generations.csv and the report.",
                "Without --results it first runs the France experiment (on the planted toy when no --model/--coarse-sae/--fine-sae)."})
final class SteerCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--results", description = "results.json of a France run (its model and SAEs are used)") Path results;
    @Mixin ModelChoice choice;
    @Option(names = "--out", description = "output folder (default: the results' folder, or runs/steer)") Path out;
    @Option(names = "--neutral-prompts", paramLabel = "<n>", defaultValue = "20",
            description = "how many of the shipped neutral prompts to continue (the first N)") int prompts;

    @Option(names = "--prompts", hidden = true, paramLabel = "<n>", description = "deprecated spelling of --neutral-prompts (in capture, --prompts is a file)")
    void deprecatedPrompts(int n) {
        spec.commandLine().getErr().println("jlens: warning: steer --prompts is deprecated; use --neutral-prompts");
        deprecatedPrompts = n;
    }

    private Integer deprecatedPrompts;

    /** --neutral-prompts, or the deprecated --prompts when given. */
    int neutralPrompts() { return deprecatedPrompts != null ? deprecatedPrompts : prompts; }
    @Option(names = "--seeds", defaultValue = "1,2,3", split = ",", description = "sampling seeds, one generation per prompt, condition, strength and seed") long[] seeds;
    @Option(names = "--strengths", defaultValue = "0,2,4,8", split = ",", description = "multiples of each feature's typical activation (results.json meanTarget); 0 = unsteered") double[] strengths;
    @Option(names = "--max-tokens", defaultValue = "24", description = "tokens generated per continuation") int maxTokens;
    @Option(names = "--temperature", defaultValue = "0.8", description = "sampling temperature") float temperature;
    @Option(names = "--top-k", defaultValue = "40", description = "sample from the k most likely tokens") int topK;
    @Option(names = "--top-p", defaultValue = "0.95", description = "nucleus sampling: the smallest set of tokens whose probabilities sum to p") float topP;
    @Option(names = "--mode", defaultValue = "ADD", description = "ADD (sum of decoder rows) | DELTA (decode(f') - decode(f) around the mean neutral residual)") SteeringStudy.Mode mode;
    @Option(names = "--target-fine", description = "fine feature for 'fine' and 'coarse+fine' (default: the anchor's strongest match)") Integer targetFine;
    @Option(names = "--bootstrap", defaultValue = "1000", description = "bootstrap resamples for the 95%% intervals") int bootstrap;
    @Option(names = "--fluency-tolerance", defaultValue = "0.25", description = "perplexities within this fraction count as equal fluency") double tolerance;
    @Option(names = "--examples", defaultValue = "2", description = "example generations per condition and strength in the report") int examples;
    @Mixin ExperimentOptions opts;
    @Option(names = "--fast-kv", description = {"f16 K/V cache (llama.cpp's default): half the cache memory, ~2e-3 instead of ~4e-5 row error at layer 12; without it K/V are f32 and flash attention is off",
            "(for the experiment it runs; with --results the numerics recorded there are used, and this must agree)"}) boolean fastKv;
    @Option(names = "--isolated", description = {"run the whole command in a worker process (same outputs): a native abort inside llama.cpp on an untrusted model",
            "is exit 2 naming the model, with nothing written to --out, instead of killing jlens; the worker ends with this command"}) boolean isolated;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        // bad values of either study's settings: exit 2 before any file is read
        Experiment.Settings experiment = opts.settings().toBuilder().fastKv(fastKv).build();
        SteeringStudy.Settings settings = new SteeringStudy.Settings(neutralPrompts(), seeds, strengths, maxTokens, temperature, topK, topP, mode,
                targetFine, bootstrap, tolerance, examples, opts.seed, opts.ctx, opts.threads());
        Checks.outputFolder("--out", out);
        opts.check();
        choice.check(opts.layer);
        Experiment.Results r;
        Path dir;
        if (isolated) { // the whole command in a worker (IsolatedMain): the experiment's capture and the generations
            Path model = results != null ? Checks.results(results).model() : choice.resolve(true, spec.commandLine().getErr()).model();
            return IsolatedMain.run(spec, "model " + model, out != null ? out : results != null ? results.toAbsolutePath().getParent() : Path.of("runs", "steer"));
        }
        if (results != null) {
            r = Checks.results(results);
            dir = out != null ? out : results.toAbsolutePath().getParent();
            if (fastKv && !r.fastKv()) {
                throw new IllegalArgumentException("--fast-kv: " + results + " was computed with an f32 K/V cache, and steering scores with "
                        + "the numerics of the results it continues; drop --fast-kv or rerun the experiment with it");
            }
        } else {
            ModelChoice.Resolved m = choice.resolve(true, spec.commandLine().getErr());
            dir = out != null ? out : Path.of("runs", "steer");
            Logs.runFolder(dir);
            r = Experiment.run(m.model(), m.coarse(), m.fine(), dir, experiment,
                    new ProgressBar(spec.commandLine().getErr(), "capture", "prompts", "encode", "shards")).results();
        }
        Logs.runFolder(dir);
        SteeringStudy.Outcome s = SteeringStudy.run(r, dir, settings, new ProgressBar(spec.commandLine().getErr()));
        o.printf("%n%s: %s%n", s.decision(), s.sentence());
        o.printf("report:      %s%n", s.report().toAbsolutePath());
        o.printf("steering:    %s%n", s.steeringJson().toAbsolutePath());
        o.printf("generations: %s%n", s.generationsCsv().toAbsolutePath());
        return 0;
    }
}
