package dev.jlens.cli;

import dev.jlens.api.Toys;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;

/** --model / --coarse-sae / --fine-sae, shared by `france` and `steer`: all three, or none for the toy default. */
final class ModelChoice {
    @Option(names = "--model", description = "gemma2 GGUF (default: the planted toy model)") Path model;
    @Option(names = "--coarse-sae", description = "coarse SAE: params.npz, SAELens dir, or release/sae_id (e.g. gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82)") String coarse;
    @Option(names = "--fine-sae", description = "fine SAE (e.g. gemma-scope-2b-pt-res/layer_12/width_262k/average_l0_121)") String fine;

    /** The model and SAEs to use; {@code toy} when the embedded default was chosen (generated on first use). */
    record Resolved(Path model, String coarse, String fine, boolean toy) {}

    /** The given model is a regular file with the layer, and SAELens folders have strict cfg.json (before any work). */
    void check(int layer) throws IOException {
        Checks.modelLayer("--model", model, layer);
        Checks.saeSource(coarse);
        Checks.saeSource(fine);
    }

    boolean given() { return model != null || coarse != null || fine != null; }

    Resolved resolve(boolean planted, PrintWriter err) throws IOException {
        if (!given()) {
            Toys.PlantedFrance f = Toys.plantedFrance(planted, err);
            return new Resolved(f.model(), f.coarseSae(), f.fineSae(), true);
        }
        if (model == null || coarse == null || fine == null) {
            throw new IllegalArgumentException("give all of --model, --coarse-sae and --fine-sae, or none of them for the toy default");
        }
        return new Resolved(model, coarse, fine, false);
    }
}
