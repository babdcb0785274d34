package dev.jlens.cli;

import dev.jlens.api.Experiment;
import dev.jlens.api.QuantImpact;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "quant-impact", mixinStandardHelpOptions = true,
        description = {"What quantised weights do to the France study: the planted toy's F32 GGUF written as F16, BF16, Q8_0, Q4_0 and Q4_K_M "
                + "with llama.cpp's quantizer, each compared with F32 (layer-12 row error, Jaccard of active features, Spearman of the top "
                + "fine features' selectivity, verdict and matched pairs).",
                "Writes quant-impact.json and quant-impact.md into --out, and with --doc a document (docs/quant-impact.md)."})
final class QuantImpactCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--out", defaultValue = "runs/quant-impact", description = "output folder") Path out;
    @Option(names = "--types", split = ",", description = "file types compared with F32 (default: f16,bf16,q8_0,q4_0,q4_k_m)") List<String> types;
    @Option(names = "--doc", description = "also write the table as a document here, e.g. docs/quant-impact.md") Path doc;
    @Option(names = "--permutations", defaultValue = "1000", description = "permutations of the France runs' check") int permutations;
    @Option(names = "--threads", defaultValue = "0", description = "CPU threads (0 = all cores)") int threads;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        List<String> t = types == null || types.isEmpty() ? QuantImpact.DEFAULT_TYPES : types;
        Experiment.Settings settings = Experiment.Settings.builder().permutations(permutations)
                .threads(threads == 0 ? Runtime.getRuntime().availableProcessors() : threads).build();
        StringBuilder cmd = new StringBuilder("jlens quant-impact");
        if (types != null && !types.isEmpty()) cmd.append(" --types ").append(String.join(",", types));
        if (permutations != 1000) cmd.append(" --permutations ").append(permutations);
        if (doc != null) cmd.append(" --doc ").append(doc);
        Files.createDirectories(out);
        QuantImpact.Outcome r = QuantImpact.run(t, out, doc, cmd.toString(), settings, spec.commandLine().getErr(),
                new ProgressBar(spec.commandLine().getErr()));
        o.println();
        for (QuantImpact.Row x : r.rows()) {
            o.printf(Locale.ROOT, "%-7s row error max %.2e mean %.2e  Jaccard coarse %.4f fine %.4f  Spearman %.4f  %s %d matches%s%n",
                    x.type(), x.rowErrorMax(), x.rowErrorMean(), x.jaccardCoarse(), x.jaccardFine(), x.spearmanTop(), x.decision(),
                    x.matches(), x.verdictSame() && x.pairsAdded() + x.pairsRemoved() == 0 ? "" : "  (differs from f32)");
        }
        o.printf("table: %s%n", r.markdown().toAbsolutePath());
        o.printf("json:  %s%n", r.json().toAbsolutePath());
        if (r.doc() != null) o.printf("doc:   %s%n", r.doc().toAbsolutePath());
        return 0;
    }
}
