package dev.jlens.cli;

import dev.jlens.api.Experiment;
import dev.jlens.api.Verdict;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "france", mixinStandardHelpOptions = true,
        description = {"The France feature-mapping experiment end to end: capture -> encode (coarse + fine SAE) -> contrast -> cross-resolution map -> GO/NO-GO -> report.",
                "With no --model/--coarse-sae/--fine-sae it runs on the embedded planted-concept toy model (generated on first use)."})
final class FranceCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ModelChoice choice;
    @Option(names = "--out", description = "run folder (default: runs/<name>-<hash of the config>)") Path out;
    @Option(names = "--no-planted", description = "toy default only: the same toy model and SAEs without the planted France structure (expect NO-GO)") boolean noPlanted;
    @Mixin ExperimentOptions opts;
    @Option(names = "--fast-kv", description = "f16 K/V cache (llama.cpp's default): half the cache memory, ~2e-3 instead of ~4e-5 row error at layer 12; without it K/V are f32 and flash attention is off") boolean fastKv;
    @Option(names = "--isolated", description = {"run the whole command in a worker process (same outputs): a native abort inside llama.cpp on an untrusted model",
            "is exit 2 naming the model, with nothing written to --out, instead of killing jlens; the worker ends with this command"}) boolean isolated;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        Experiment.Settings settings = opts.settings().toBuilder().fastKv(fastKv).build(); // bad values: exit 2 before any file is read
        Checks.outputFolder("--out", out);
        opts.check();
        choice.check(opts.layer);
        ModelChoice.Resolved m = choice.resolve(!noPlanted, spec.commandLine().getErr());
        Path model = m.model();
        String coarse = m.coarse(), fine = m.fine();
        String name = !m.toy() ? "france" : noPlanted ? "france-toy-unplanted" : "france-toy";
        Path dir = out != null ? out : Experiment.runFolder(Path.of("runs"), name, model, coarse, fine, settings);
        if (isolated) return IsolatedMain.run(spec, "model " + model, dir);
        Logs.runFolder(dir);
        Experiment.Outcome r = Experiment.run(model, coarse, fine, dir, settings, new ProgressBar(spec.commandLine().getErr(), "capture", "prompts", "encode", "shards"));
        Verdict v = r.verdict();
        o.printf("%n%s: %s%n", v.go() ? "GO" : "NO-GO", v.reason());
        o.printf("report:  %s%n", dir.resolve("report.html").toAbsolutePath());
        o.printf("results: %s%n", dir.resolve("results.json").toAbsolutePath());
        return 0;
    }
}
