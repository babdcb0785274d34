package dev.jlens.cli;

import dev.jlens.api.Toys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "toy-sae", mixinStandardHelpOptions = true,
        description = "Write a random JumpReLU SAE (unit-norm decoder rows, realistic L0) as Gemma Scope params.npz and/or a SAELens directory.")
final class ToySaeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--d-in", defaultValue = "2304", description = "input width: the model's d_model (Gemma 2 2B: 2304)") int dIn;
    @Option(names = "--d-sae", defaultValue = "16384", description = "number of features (Gemma Scope widths: 16384, 65536, 262144...)") int dSae;
    @Option(names = "--seed", defaultValue = "1", description = "seed of the random weights") long seed;
    @Option(names = "--l0", defaultValue = "80", description = "target average L0 on inputs of the model's scale") double l0;
    @Option(names = "--npz", description = "write Gemma Scope params.npz here") Path npz;
    @Option(names = "--saelens", description = "write a SAELens directory (cfg.json + sae_weights.safetensors) here") Path saelens;
    @Option(names = "--bf16", description = "SAELens matrices in bf16 (biases and threshold stay f32)") boolean bf16;

    @Override
    public Integer call() throws Exception {
        if (npz == null && saelens == null) throw new IllegalArgumentException("give --npz and/or --saelens");
        var b = new Toys.RandomSae(dIn, dSae, seed, l0);
        if (npz != null) {
            b.writeGemmaScopeNpz(npz);
            spec.commandLine().getOut().println("wrote " + npz);
        }
        if (saelens != null) {
            b.writeSaeLensDir(saelens, bf16);
            spec.commandLine().getOut().println("wrote " + saelens);
        }
        return 0;
    }
}
