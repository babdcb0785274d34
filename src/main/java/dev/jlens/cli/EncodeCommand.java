package dev.jlens.cli;

import dev.jlens.api.CodesFolder;
import dev.jlens.api.EncoderKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "encode", mixinStandardHelpOptions = true,
        description = "Encode captured activations with an SAE: writes codes.npz (CSR: indices, values, offsets, shape) and metrics.json.")
final class EncodeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--sae", required = true, description = "params.npz, SAELens directory, or release/sae_id (e.g. gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82)") String sae;
    @Option(names = "--activations", required = true, description = "activations.npy from jlens capture") Path activations;
    @Option(names = "--out", required = true, description = "output folder: codes.npz and metrics.json") Path out;
    @Option(names = "--encoder", defaultValue = "auto", converter = ExperimentOptions.EncoderConverter.class,
            description = "auto | vector | ggml | ggml-gpu | scalar") EncoderKind encoder;
    @Option(names = "--hook-layer", description = {"the SAE's hook layer (blocks.N.hook_resid_post) for a params.npz whose path has no layer_N folder;",
            "default: the layer in capture.json next to the activations. An SAE of another layer or hook is refused (exit 2)."}) Integer hookLayer;

    @Override
    public Integer call() throws Exception {
        if (hookLayer != null && hookLayer < 0) throw new IllegalArgumentException("--hook-layer must be >= 0, got " + hookLayer);
        Checks.outputFolder("--out", out);
        Checks.saeSource(sae);
        Logs.runFolder(out);
        CodesFolder.Metrics m = CodesFolder.write(sae, activations, out, encoder, hookLayer == null ? -1 : hookLayer,
                new ProgressBar(spec.commandLine().getErr(), "encode", "rows"));
        spec.commandLine().getOut().printf("encoded %d rows (%d BOS rows excluded from metrics) with the %s encoder: L0 %.1f, FVU %.4f, cosine %.4f%n  %s%n",
                m.rows(), m.rowsExcludedAsBos(), m.encoder(), m.meanL0(), m.fvu(), m.meanCosine(), out);
        return 0;
    }
}
