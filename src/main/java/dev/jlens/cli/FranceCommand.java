package dev.jlens.cli;

import dev.jlens.pipeline.ConceptExperiment;
import dev.jlens.pipeline.ExperimentConfig;
import dev.jlens.pipeline.RunFolders;
import dev.jlens.pipeline.ToyDefault;
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
    @Option(names = "--model", description = "gemma2 GGUF (default: the planted toy model)") Path model;
    @Option(names = "--coarse-sae", description = "coarse SAE: params.npz, SAELens dir, or release/sae_id (e.g. gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82)") String coarse;
    @Option(names = "--fine-sae", description = "fine SAE (e.g. gemma-scope-2b-pt-res/layer_12/width_262k/average_l0_121)") String fine;
    @Option(names = "--out", description = "run folder (default: runs/<name>-<hash of the config>)") Path out;
    @Option(names = "--no-planted", description = "toy default only: the same toy model and SAEs without the planted France structure (expect NO-GO)") boolean noPlanted;
    @Mixin ExperimentOptions opts;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        boolean toy = model == null && coarse == null && fine == null;
        if (!toy && (model == null || coarse == null || fine == null)) {
            throw new IllegalArgumentException("give all of --model, --coarse-sae and --fine-sae, or none of them for the toy default");
        }
        String name = "france";
        if (toy) {
            ToyDefault.Files f = ToyDefault.ensure(!noPlanted, spec.commandLine().getErr());
            model = f.model();
            coarse = f.coarseId();
            fine = f.fineId();
            name = noPlanted ? "france-toy-unplanted" : "france-toy";
        }
        ExperimentConfig probe = opts.config(model, coarse, fine, Path.of("."));
        Path dir = out != null ? out : RunFolders.forConfig(Path.of("runs"), name, probe);
        ConceptExperiment.Outcome r = ConceptExperiment.run(opts.config(model, coarse, fine, dir), new ProgressBar(spec.commandLine().getErr()));
        var v = r.result().verdict();
        o.printf("%n%s: %s%n", v.decision().equals("GO") ? "GO" : "NO-GO", v.reason());
        o.printf("report:  %s%n", dir.resolve("report.html").toAbsolutePath());
        o.printf("results: %s%n", dir.resolve("results.json").toAbsolutePath());
        return 0;
    }
}
