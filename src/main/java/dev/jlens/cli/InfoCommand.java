package dev.jlens.cli;

import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Validate a gemma2 GGUF in pure Java (no native code) and print its header.")
final class InfoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Parameters(index = "0", description = "GGUF file") Path file;

    @Override
    public Integer call() throws Exception {
        try (GgufFile f = GgufFile.open(file)) {
            var h = f.requireGemma2();
            PrintWriter out = spec.commandLine().getOut();
            out.printf("file          %s%n", file);
            out.printf("gguf version  %d, %d tensors, %d metadata keys, alignment %d%n", f.version(), f.tensors().size(), f.metadata().size(), f.alignment());
            out.printf("architecture  gemma2%n");
            out.printf("layers        %d%n", h.nLayer());
            out.printf("d_model       %d%n", h.nEmbd());
            out.printf("heads         %d (kv %d), head dim %d%n", h.nHead(), h.nHeadKv(), h.headDim());
            out.printf("ffn           %d%n", h.nFf());
            out.printf("vocab         %d (%s tokenizer)%n", h.nVocab(), h.tokenizerModel());
            out.printf("context       %d, sliding window %d%n", h.contextLength(), h.slidingWindow());
            out.printf("soft-caps     attention %.1f, final %.1f; rms eps %.1e%n", h.attnSoftcap(), h.finalSoftcap(), h.rmsEps());
            Map<GgmlType, Integer> types = new TreeMap<>();
            for (var t : f.tensors()) types.merge(t.type(), 1, Integer::sum);
            out.printf("tensor types  %s%n", types);
        }
        return 0;
    }
}
