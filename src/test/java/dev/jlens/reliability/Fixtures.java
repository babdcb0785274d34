package dev.jlens.reliability;

import dev.jlens.formats.GgmlType;
import dev.jlens.isolated.JavaProcess;
import dev.jlens.toy.ToyModelJob;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Shared fixtures of the reliability tests: the tiny model, child JVMs, RSS, file listings. */
final class Fixtures {
    private static Path tiny;

    private Fixtures() {}

    /**
     * {@code pb} with SIGINT restored to its default action in the child. A process started in the background by a
     * shell without job control (nohup, {@code cmd &} in a script, some CI runners) inherits SIGINT as ignored, and so
     * do its children; a JVM then installs no SIGINT handler, and a test that interrupts a child would fail for a
     * reason that is not the code's. GNU env's --default-signal resets it and execs (the pid stays the child's).
     */
    static ProcessBuilder interruptible(ProcessBuilder pb) {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("env", "--default-signal=INT"));
        cmd.addAll(pb.command());
        return pb.command(cmd);
    }

    /** The `toy-model --kind tiny` gemma2 (14 layers, d=64, vocabulary of the shipped prompt words), once per JVM. */
    static synchronized Path tinyModel() {
        if (tiny == null) {
            try {
                Path dir = Files.createTempDirectory("jlens-reliability");
                dir.toFile().deleteOnExit();
                tiny = dir.resolve("tiny.gguf");
                ToyModelJob.write(tiny, ToyModelJob.Kind.TINY, GgmlType.F32, 7);
                tiny.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return tiny;
    }

    private static Path small;

    /** The tiny gemma2 with a 1024-token vocabulary (fast to load: the cycle test loads it 110 times). */
    static synchronized Path smallVocabModel() {
        if (small == null) {
            try {
                Path dir = Files.createTempDirectory("jlens-reliability-small");
                dir.toFile().deleteOnExit();
                small = dir.resolve("tiny-1024.gguf");
                var words = List.of("the", "capital", "of", "France", "is", "Paris", "hello", "world", "cat", "dog");
                var cfg = dev.jlens.toy.Gemma2Config.tiny().withNVocab(1024);
                var vocab = dev.jlens.toy.Vocabulary.build(words, cfg.nVocab());
                dev.jlens.toy.ToyModels.write(small, cfg, vocab, dev.jlens.toy.ToyModels.generate(cfg, vocab, 1234), GgmlType.F32);
                small.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return small;
    }

    /** Committed Java heap in kB (part of RSS that is not native memory). */
    static long heapCommittedKb() {
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() / 1024;
    }

    record Child(int code, String stdout, String stderr) {}

    /** Runs {@code main} in a child JVM like this one and waits for it (killed and failed after the timeout). */
    static Child runChild(Class<?> main, Duration timeout, String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile("jlens-child", ".out"), err = Files.createTempFile("jlens-child", ".err");
        try {
            Process p = JavaProcess.builder(main.getName(), List.of(args)).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError(main.getSimpleName() + " did not finish in " + timeout + "; stderr: " + Files.readString(err));
            }
            return new Child(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** Every regular file under {@code dir} (relative names), empty when the folder does not exist. */
    static List<String> filesUnder(Path dir) throws IOException {
        if (!Files.exists(dir)) return List.of();
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }
}
