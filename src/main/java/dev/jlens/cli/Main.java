package dev.jlens.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the jlens command line. Exit codes: 0 ok, 1 failed run, 2 bad input. */
@Command(name = "jlens", mixinStandardHelpOptions = true, version = "jlens 0.1.0",
        description = "Look inside Gemma 2 at layer 12: capture the residual stream with llama.cpp and decompose it with sparse autoencoders.",
        subcommands = {FranceCommand.class, SteerCommand.class, AnalysisCommands.Contrast.class, AnalysisCommands.Crossmap.class,
                AnalysisCommands.Report.class, InfoCommand.class, CaptureCommand.class, ToyModelCommand.class, ToySaeCommand.class,
                EncodeCommand.class, NativesCommand.class, AtlasCommand.class, NeuronpediaExportCommand.class, SliceCommand.class, QuantImpactCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(Errors::handle);
        cl.setParameterExceptionHandler((ex, a) -> {
            ex.getCommandLine().getErr().println("jlens: " + ex.getMessage());
            ex.getCommandLine().usage(ex.getCommandLine().getErr());
            return 2;
        });
        return cl.execute(args);
    }
}
