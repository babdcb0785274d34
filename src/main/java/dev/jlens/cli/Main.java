package dev.jlens.cli;

import dev.jlens.api.NativeRuntime;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

import java.util.ArrayList;
import java.util.List;

/** Entry point of the jlens command line. Exit codes: 0 ok, 1 failed run, 2 bad input. */
@Command(name = "jlens", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Look inside Gemma 2 at layer 12: capture the residual stream with llama.cpp and decompose it with sparse autoencoders.",
        subcommands = {FranceCommand.class, SteerCommand.class, AnalysisCommands.Contrast.class, AnalysisCommands.Crossmap.class,
                AnalysisCommands.Report.class, InfoCommand.class, CaptureCommand.class, ToyModelCommand.class, ToySaeCommand.class,
                EncodeCommand.class, NativesCommand.class, AtlasCommand.class, NeuronpediaExportCommand.class, SliceCommand.class, QuantImpactCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    /** This build's version; a test checks it against pom.xml. */
    static final String VERSION = "0.1.0-SNAPSHOT";

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "also show the log records (llama.cpp's messages, SAE loading...) on the terminal; they always go to run.log in the run folder")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cl = command();
        Main main = cl.getCommand();
        cl.setExecutionExceptionHandler(Errors::handle);
        cl.setParameterExceptionHandler((ex, a) -> {
            // the message and where the help is, not the whole usage text (the error would scroll away)
            ex.getCommandLine().getErr().println("jlens: " + ex.getMessage());
            ex.getCommandLine().getErr().println("see '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help'");
            return 2;
        });
        cl.setExecutionStrategy(parsed -> {
            // an inherited option matched on a subcommand is recorded in that subcommand's parse result
            boolean verbose = main.verbose;
            for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) verbose |= p.hasMatchedOption("--verbose");
            Logs logs = Logs.open(verbose, cl.getErr(), String.join(" ", args));
            int code = 1;
            try {
                code = new CommandLine.RunLast().execute(parsed);
                return code;
            } catch (CommandLine.ExecutionException e) {
                Throwable t = e.getCause() instanceof java.io.UncheckedIOException u ? u.getCause() : e.getCause();
                logs.failed(t == null ? e.getMessage() : Errors.describe(t));
                throw e;
            } finally {
                logs.close(code == 0);
            }
        });
        return cl.execute(args);
    }

    /**
     * The command tree as the user sees it: every option shows its default value, and commands drop the shared options
     * they do not use (see {@link #IGNORED}).
     */
    static CommandLine command() {
        CommandLine cl = new CommandLine(new Main());
        for (CommandLine sub : cl.getSubcommands().values()) {
            CommandSpec spec = sub.getCommandSpec();
            for (String name : IGNORED.getOrDefault(spec.name(), List.of())) {
                OptionSpec o = spec.findOption(name);
                if (o == null) continue;
                // a removed option is no longer parsed, so its default is applied here
                if (o.defaultValue() != null) o.setValue(convert(o.defaultValue(), o.type()));
                spec.remove(o);
            }
        }
        showDefaults(cl);
        return cl;
    }

    private static Object convert(String s, Class<?> type) {
        if (type == int.class || type == Integer.class) return Integer.valueOf(s);
        if (type == long.class || type == Long.class) return Long.valueOf(s);
        if (type == double.class || type == Double.class) return Double.valueOf(s);
        if (type == float.class || type == Float.class) return Float.valueOf(s);
        if (type == boolean.class || type == Boolean.class) return Boolean.valueOf(s);
        if (type == java.nio.file.Path.class) return java.nio.file.Path.of(s);
        if (type.isEnum()) {
            for (Object c : type.getEnumConstants()) if (((Enum<?>) c).name().equalsIgnoreCase(s)) return c;
        }
        if (type == String.class) return s;
        throw new IllegalStateException("no conversion of the default '" + s + "' to " + type);
    }

    private static void showDefaults(CommandLine cl) {
        cl.getCommandSpec().usageMessage().showDefaultValues(true).width(100);
        for (CommandLine sub : cl.getSubcommands().values()) showDefaults(sub);
    }

    /**
     * Options of the shared experiment mixin that a command does not use: contrast and crossmap start from capture
     * folders (no prompts, no capture settings), and contrast ranks one SAE (no cross-resolution map).
     */
    static final java.util.Map<String, List<String>> IGNORED = java.util.Map.of(
            "contrast", List.of("--target", "--control", "--ctx", "--seqs", "--gpu-capture", "--anchors", "--min-cosine",
                    "--min-correlation", "--min-sub-features"),
            "crossmap", List.of("--target", "--control", "--ctx", "--seqs", "--gpu-capture"));

    /** {@code jlens --version}: jlens, the llama.cpp commit it is pinned to and the one loaded, the CPU backend variant. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            List<String> v = new ArrayList<>();
            v.add("jlens " + VERSION);
            v.add("java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")");
            try {
                NativeRuntime r = NativeRuntime.load();
                v.add("llama.cpp commit " + r.ggmlCommit() + " (ggml " + r.ggmlVersion() + ")");
                v.add("cpu backend " + r.cpuVariant() + " (" + r.cpuBackend() + ")");
                v.add("natives " + r.directory());
            } catch (RuntimeException | LinkageError e) {
                v.add("llama.cpp not loadable: " + e.getMessage());
            }
            return v.toArray(String[]::new);
        }
    }
}
