package dev.jlens.cli;

import dev.jlens.api.Slices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "slice", mixinStandardHelpOptions = true,
        description = {"Write a capture-only GGUF: tokenizer, embeddings, final norm and blocks 0..L+1 of a model.",
                "Capture at layers 0..L from the slice equals capture from the full model bit for bit; steering refuses a slice."})
final class SliceCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--model", required = true, description = "source GGUF") Path model;
    @Option(names = "--through-layer", required = true, description = "highest layer to capture (0..layers-2)") int throughLayer;
    @Option(names = "--out", required = true, description = "slice GGUF to write (atomically)") Path out;

    @Override
    public Integer call() throws Exception {
        Slices.Slice s = Slices.write(model, throughLayer, out);
        PrintWriter o = spec.commandLine().getOut();
        o.printf("slice         %s%n", s.path());
        o.printf("layers        %d of %d (captures layers 0..%d)%n", s.layers(), s.sourceLayers(), s.throughLayer());
        o.printf("tensors       %d%n", s.tensors());
        o.printf("size          %,d of %,d bytes (%.1f%%)%n", s.bytes(), s.sourceBytes(), 100 * s.sizeRatio());
        o.printf("source sha256 %s%n", s.sourceSha256());
        return 0;
    }
}
