package dev.jlens.cli;

import dev.jlens.api.Toys;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "toy-model", mixinStandardHelpOptions = true,
        description = "Write a generated gemma2 GGUF: tiny (fast tests) or gemma2-2b-shape (Gemma 2 2B's exact shapes, random weights, for benchmarks).")
final class ToyModelCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--kind", defaultValue = "tiny", description = "tiny | gemma2-2b-shape") String kind;
    @Option(names = "--type", defaultValue = "f32", description = "f32 | f16 | q8_0 | q4_0 (matrices; norms stay f32)") String type;
    @Option(names = "--seed", defaultValue = "1234", description = "seed of the random weights") long seed;
    @Option(names = "--out", required = true, description = "output .gguf") Path out;

    @Override
    public Integer call() throws Exception {
        Toys.ModelFile r = Toys.writeModel(out, kind, type, seed);
        spec.commandLine().getOut().printf("wrote %s: %d layers, d_model %d, vocab %d, %s in %d s%n", r.path(), r.layers(),
                r.dModel(), r.vocab(), r.type(), r.seconds());
        return 0;
    }
}
