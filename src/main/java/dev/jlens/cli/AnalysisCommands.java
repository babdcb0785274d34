package dev.jlens.cli;

import dev.jlens.api.Experiment;
import dev.jlens.api.Verdict;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** The experiment's later stages on activations the user captured before (`jlens capture` folders). */
final class AnalysisCommands {
    private AnalysisCommands() {}

    static final class Inputs {
        @Option(names = "--target-captured", required = true, description = "`jlens capture` folder of the target prompts") Path targetDir;
        @Option(names = "--control-captured", required = true, description = "`jlens capture` folder of the control prompts") Path controlDir;
        @Option(names = "--target-prompts", description = "the target prompt file (for texts and facets); default: texts from tokens.csv") Path targetPrompts;
        @Option(names = "--control-prompts", description = "the control prompt file") Path controlPrompts;

        /** The prompt files are strict (the capture folders are checked where they are opened). */
        void check() throws java.io.IOException {
            Checks.promptFile("--target-prompts", targetPrompts);
            Checks.promptFile("--control-prompts", controlPrompts);
        }

        Experiment.Captures captures() { return new Experiment.Captures(targetDir, controlDir, targetPrompts, controlPrompts); }
    }

    @Command(name = "contrast", mixinStandardHelpOptions = true,
            description = "Contrast statistics of one SAE's features (selectivity, AUROC, permutation p, BH q, effect size) on captured target vs control activations.")
    static final class Contrast implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin Inputs in;
        @Option(names = "--sae", required = true, description = "params.npz, SAELens dir or release/sae_id") String sae;
        @Option(names = "--out", required = true, description = "output folder: contrast.json, features.csv, prompts.csv and prompt_features.npz") Path out;
        @Mixin ExperimentOptions opts;
        @Option(names = "--isolated", description = {"run the whole command in a worker process (same outputs): a native abort in ggml (the ggml encoders)",
                "is exit 2 naming the SAE, with nothing written to --out, instead of killing jlens; the worker ends with this command"}) boolean isolated;

        @Override
        public Integer call() throws Exception {
            in.check();
            Checks.outputFolder("--out", out);
            Checks.saeSource(sae);
            if (isolated) return IsolatedMain.run(spec, "SAE " + sae + " (encoder " + opts.encoder + ") on " + in.targetDir + " and " + in.controlDir, out);
            Logs.runFolder(out);
            Experiment.Contrast r = Experiment.contrast(in.captures(), sae, out, opts.settings(), new ProgressBar(spec.commandLine().getErr(), "encode", "shards"));
            var o = spec.commandLine().getOut();
            o.printf("%d active features; top by selectivity:%n", r.activeFeatures());
            for (var f : r.topBySelectivity().subList(0, Math.min(10, r.topBySelectivity().size()))) {
                o.printf("  #%d  selectivity %.3f  mean target %.3f  mean control %.3f  AUROC %.3f  q %.3g%n", f.feature(), f.selectivity(),
                        f.meanTarget(), f.meanControl(), f.auroc(), f.qValue());
            }
            o.printf("%s%n", r.json());
            return 0;
        }
    }

    @Command(name = "crossmap", mixinStandardHelpOptions = true,
            description = "Contrast + cross-resolution map + GO/NO-GO + report for captured target vs control activations and two SAEs.")
    static final class Crossmap implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin Inputs in;
        @Option(names = "--coarse-sae", required = true, description = "coarse SAE: params.npz, SAELens dir or release/sae_id") String coarse;
        @Option(names = "--fine-sae", required = true, description = "fine SAE: params.npz, SAELens dir or release/sae_id") String fine;
        @Option(names = "--out", required = true, description = "run folder: results.json, the CSVs and report.html") Path out;
        @Mixin ExperimentOptions opts;

        @Override
        public Integer call() throws Exception {
            in.check();
            Checks.outputFolder("--out", out);
            Checks.saeSource(coarse);
            Checks.saeSource(fine);
            Logs.runFolder(out);
            Experiment.Outcome r = Experiment.crossmap(in.captures(), coarse, fine, out, opts.settings(), new ProgressBar(spec.commandLine().getErr(), "encode", "shards"));
            Verdict v = r.verdict();
            spec.commandLine().getOut().printf("%s: %s%nreport:  %s%n", v.go() ? "GO" : "NO-GO", v.reason(), r.report().toAbsolutePath());
            return 0;
        }
    }

    @Command(name = "report", mixinStandardHelpOptions = true,
            description = "(Re)write report.html, heatmap.png and scatter.png from a results.json.")
    static final class Report implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--results", required = true, description = "results.json of a france/crossmap run") Path results;
        @Option(names = "--out", description = "output folder (default: next to results.json)") Path out;

        @Override
        public Integer call() throws Exception {
            Checks.outputFolder("--out", out);
            Experiment.Results r = Checks.results(results);
            Path dir = out != null ? out : results.toAbsolutePath().getParent();
            spec.commandLine().getOut().printf("report: %s%n", Checks.writeReport(results, r, dir).toAbsolutePath());
            return 0;
        }
    }
}
