package dev.jlens.isolated;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The command line of a child JVM that runs like this one: the same java, class path, native-access and
 * module flags, and the jlens.native.dir / jlens.models.dir properties passed through, so the child loads
 * the same llama.cpp build and finds the same models.
 */
public final class JavaProcess {
    private JavaProcess() {}

    public static List<String> command(String mainClass, List<String> args) {
        return command(mainClass, List.of(), args);
    }

    /** {@link #command(String, List)} with extra JVM options (before the main class), e.g. {@code -XX:ErrorFile=...}. */
    public static List<String> command(String mainClass, List<String> jvmOptions, List<String> args) {
        Objects.requireNonNull(mainClass, "mainClass");
        Objects.requireNonNull(jvmOptions, "jvmOptions");
        Objects.requireNonNull(args, "args");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("-XX:+UseSerialGC");   // a worker needs no parallel GC threads on a shared machine
        cmd.add("-Xshare:auto");
        for (String prop : List.of("jlens.native.dir", "jlens.models.dir")) {
            String v = System.getProperty(prop);
            if (v != null && !v.isBlank()) cmd.add("-D" + prop + "=" + v);
        }
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass);
        cmd.addAll(args);
        return cmd;
    }

    /**
     * A ProcessBuilder for {@link #command}; GGML_NO_BACKTRACE keeps ggml's abort handler from attaching
     * gdb to the dying child (slow, and its output would bury the assertion message).
     */
    public static ProcessBuilder builder(String mainClass, List<String> args) {
        return builder(mainClass, List.of(), args);
    }

    /** {@link #builder(String, List)} with extra JVM options. */
    public static ProcessBuilder builder(String mainClass, List<String> jvmOptions, List<String> args) {
        ProcessBuilder pb = new ProcessBuilder(command(mainClass, jvmOptions, args));
        pb.environment().put("GGML_NO_BACKTRACE", "1");
        return pb;
    }
}
