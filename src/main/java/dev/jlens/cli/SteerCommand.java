package dev.jlens.cli;

import dev.jlens.pipeline.ConceptExperiment;
import dev.jlens.pipeline.ExperimentResult;
import dev.jlens.pipeline.Json;
import dev.jlens.steering.SteeringConfig;
import dev.jlens.steering.SteeringExperiment;
import dev.jlens.steering.SteeringPlan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "steer", mixinStandardHelpOptions = true,
        description = {"Phase 2 of the France study: steer generation with the coarse France feature, a fine facet feature, both, or a random",
                "direction of equal norm, over a strength sweep; score every continuation with the unsteered model; say whether",
                "coarse+fine targets the facet better than coarse alone at equal fluency. Writes steering.json, generations.csv and the report.",
                "Without --results it first runs the France experiment (on the planted toy when no --model/--coarse-sae/--fine-sae)."})
final class SteerCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--results", description = "results.json of a France run (its model and SAEs are used)") Path results;
    @Mixin ModelChoice choice;
    @Option(names = "--out", description = "output folder (default: the results' folder, or runs/steer)") Path out;
    @Option(names = "--prompts", defaultValue = "20", description = "first N shipped neutral prompts (default ${DEFAULT-VALUE})") int prompts;
    @Option(names = "--seeds", defaultValue = "1,2,3", split = ",", description = "sampling seeds (default ${DEFAULT-VALUE})") long[] seeds;
    @Option(names = "--strengths", defaultValue = "0,2,4,8", split = ",", description = "multiples of each feature's typical activation (results.json meanTarget); 0 = unsteered (default ${DEFAULT-VALUE})") double[] strengths;
    @Option(names = "--max-tokens", defaultValue = "24") int maxTokens;
    @Option(names = "--temperature", defaultValue = "0.8") float temperature;
    @Option(names = "--top-k", defaultValue = "40") int topK;
    @Option(names = "--top-p", defaultValue = "0.95") float topP;
    @Option(names = "--mode", defaultValue = "ADD", description = "ADD (sum of decoder rows) | DELTA (decode(f') - decode(f) around the mean neutral residual)") SteeringConfig.Mode mode;
    @Option(names = "--target-fine", description = "fine feature for 'fine' and 'coarse+fine' (default: the anchor's strongest match)") Integer targetFine;
    @Option(names = "--bootstrap", defaultValue = "1000", description = "bootstrap resamples for the 95%% intervals") int bootstrap;
    @Option(names = "--fluency-tolerance", defaultValue = "0.25", description = "perplexities within this fraction count as equal fluency") double tolerance;
    @Option(names = "--examples", defaultValue = "2", description = "example generations per condition and strength in the report") int examples;
    @Mixin ExperimentOptions opts;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        ExperimentResult r;
        Path dir;
        if (results != null) {
            r = Json.MAPPER.readValue(results.toFile(), ExperimentResult.class);
            dir = out != null ? out : results.toAbsolutePath().getParent();
        } else {
            ModelChoice.Resolved m = choice.resolve(true, spec.commandLine().getErr());
            dir = out != null ? out : Path.of("runs", "steer");
            r = ConceptExperiment.run(opts.config(m.model(), m.coarse(), m.fine(), dir), new ProgressBar(spec.commandLine().getErr())).result();
        }
        if (!Files.isRegularFile(Path.of(r.config().model()))) {
            throw new IllegalArgumentException("results.json names model " + r.config().model() + ", which is not a file here");
        }
        SteeringPlan plan = SteeringPlan.fromResults(r);
        if (targetFine != null) plan = plan.withTarget(targetFine);
        int threads = opts.threads > 0 ? opts.threads : Runtime.getRuntime().availableProcessors();
        SteeringConfig cfg = new SteeringConfig(Path.of(r.config().model()), r.config().coarseSae().id(), r.config().fineSae().id(), r.config().layer(),
                plan, mode, prompts, seeds, strengths, maxTokens, temperature, topK, topP, bootstrap, opts.seed, tolerance, examples,
                dir, opts.ctx, threads, r);
        SteeringExperiment.Outcome s = SteeringExperiment.run(cfg, new ProgressBar(spec.commandLine().getErr()));
        o.printf("%n%s: %s%n", s.result().verdict().decision(), s.result().verdict().sentence());
        o.printf("report:      %s%n", dir.resolve("report.html").toAbsolutePath());
        o.printf("steering:    %s%n", dir.resolve("steering.json").toAbsolutePath());
        o.printf("generations: %s%n", dir.resolve("generations.csv").toAbsolutePath());
        return 0;
    }
}
