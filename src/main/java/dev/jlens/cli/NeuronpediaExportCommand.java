package dev.jlens.cli;

import dev.jlens.api.Atlas;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "neuronpedia-export", mixinStandardHelpOptions = true,
        description = "Write one SAE's atlas folder (from jlens atlas) as the batch-N.json files SAEDashboard produces for Neuronpedia's importer.")
final class NeuronpediaExportCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--atlas", required = true, paramLabel = "DIR", description = "an atlas folder (holding atlas.json and features.jsonl)") Path atlas;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "where the batch files go") Path out;

    @Override
    public Integer call() throws Exception {
        Checks.outputFolder("--out", out);
        Atlas.NeuronpediaBatches b = Atlas.exportNeuronpedia(atlas, out);
        spec.commandLine().getOut().printf("%d features in %d batch files (%d never fired, listed in skipped_indexes.json)%n  %s%n",
                b.features(), b.batches().size(), b.skipped(), out.toAbsolutePath());
        return 0;
    }
}
