package dev.jlens.cli;

import dev.jlens.api.NativeRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

@Command(name = "natives", mixinStandardHelpOptions = true,
        description = "Load the llama.cpp libraries and print where they came from and which CPU backend variant runs here.")
final class NativesCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        NativeRuntime r = NativeRuntime.load();
        PrintWriter out = spec.commandLine().getOut();
        out.printf("folder        %s%n", r.directory());
        out.printf("ggml          %s (commit %s)%n", r.ggmlVersion(), r.ggmlCommit());
        out.printf("cpu backend   %s (%s)%n", r.cpuVariant(), r.cpuBackend());
        out.printf("system info   %s%n", r.systemInfo().strip());
        return 0;
    }
}
