package dev.jlens.cli;

import dev.jlens.api.ModelInfo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Validate a gemma2 GGUF in pure Java (no native code) and print its header.")
final class InfoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Parameters(index = "0", description = "GGUF file") Path file;

    @Override
    public Integer call() throws Exception {
        Checks.regularFile("file", file); // a FIFO would be read forever
        ModelInfo h = ModelInfo.read(file);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("file          %s%n", file);
        out.printf("gguf version  %d, %d tensors, %d metadata keys, alignment %d%n", h.ggufVersion(), h.tensorCount(), h.metadataKeys(), h.alignment());
        out.printf("architecture  gemma2%n");
        out.printf("layers        %d%n", h.layers());
        out.printf("d_model       %d%n", h.dModel());
        out.printf("heads         %d (kv %d), head dim %d%n", h.heads(), h.kvHeads(), h.headDim());
        out.printf("ffn           %d%n", h.ffn());
        out.printf("vocab         %d (%s tokenizer)%n", h.vocab(), h.tokenizer());
        out.printf("context       %d, sliding window %d%n", h.contextLength(), h.slidingWindow());
        out.printf("soft-caps     attention %.1f, final %.1f; rms eps %.1e%n", h.attnSoftcap(), h.finalSoftcap(), h.rmsEps());
        out.printf("tensor types  %s%n", h.tensorTypes());
        return 0;
    }
}
