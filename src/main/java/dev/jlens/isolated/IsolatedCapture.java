package dev.jlens.isolated;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.jlens.formats.GgufFile;
import dev.jlens.llama.Context;
import dev.jlens.activations.CaptureJob;
import dev.jlens.activations.TokenizedPrompts;
import dev.jlens.util.Json;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * `jlens capture --isolated`: the capture runs in a worker JVM ({@link IsolatedWorker}) that loads the
 * model, so a native abort inside llama.cpp (GGML_ASSERT kills the whole process) ends the worker, not
 * the host. The worker writes activations.npy, tokens.csv and capture.json into a private staging folder
 * next to the output; the host moves them into place only when the worker exited 0, and deletes the
 * staging folder in every case, so a crash leaves nothing partial at the output path.
 *
 * <p>Worker exit codes: 0 done, 2 bad input (the host rethrows IllegalArgumentException with the
 * worker's message), 1 a failed run (IOException); anything else is a crash
 * ({@link IsolatedWorkerCrashedException}).
 */
public final class IsolatedCapture {
    private static final System.Logger LOG = System.getLogger(IsolatedCapture.class.getName());
    static final int STDERR_TAIL_BYTES = 4096;
    static final String ERROR_PREFIX = "jlens-worker: ";

    private IsolatedCapture() {}

    /**
     * @param timeout        the worker is killed (and the call fails) after this long
     * @param abortAfterLoad diagnostic: the worker hits a real GGML_ASSERT right after loading the model,
     *                       to prove that the host survives a native abort
     */
    public record Options(Duration timeout, boolean abortAfterLoad) {
        public Options {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }

        public static Options defaults() { return new Options(Duration.ofHours(24), false); }
    }

    /** What the host sends the worker (request.json in the staging folder). */
    record Request(String model, List<String> prompts, int layer, int nCtx, int nUbatch, int nSeqMax, int nThreads,
                   int gpuLayers, boolean abortAfterLoad) {}

    public static CaptureJob.Result run(Path model, List<String> prompts, int layer, Path outDir, Context.Params params,
                                        int gpuLayers, Options options) throws IOException {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(prompts, "prompts");
        Objects.requireNonNull(outDir, "outDir");
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(options, "options");
        // the cheap checks happen here, so bad input never costs a worker start
        String why = GgufFile.notARegularFile(model);
        if (why != null) throw new IllegalArgumentException(model + ": model file " + why);
        TokenizedPrompts.requireTexts(prompts); // the worker tokenizes and validates the rest (CaptureJob)
        if (layer < 0) throw new IllegalArgumentException("layer must be >= 0, got " + layer);
        Path out = outDir.toAbsolutePath();
        Files.createDirectories(out.getParent());
        removeStaleStaging(out);
        Path staging = Files.createTempDirectory(out.getParent(), "." + out.getFileName() + ".isolated-");
        try {
            Files.writeString(staging.resolve(HOST_FILE), hostId(ProcessHandle.current()));
            Path request = staging.resolve("request.json");
            Json.write(request, new Request(model.toAbsolutePath().toString(), List.copyOf(prompts), layer, params.nCtx(), params.nUbatch(),
                    params.nSeqMax(), params.nThreads(), gpuLayers, options.abortAfterLoad()));
            Path workOut = staging.resolve("out");
            Path err = staging.resolve("worker.stderr");
            ProcessBuilder pb = JavaProcess.builder(IsolatedWorker.class.getName(), List.of(request.toString(), workOut.toString()));
            pb.redirectError(err.toFile());
            pb.redirectOutput(ProcessBuilder.Redirect.DISCARD);
            // the worker exits when this pipe closes: when this JVM ends, however it ends (IsolatedWorker.dieWithHost)
            pb.redirectInput(ProcessBuilder.Redirect.PIPE);
            pb.environment().put(IsolatedWorker.WATCH_STDIN, "1");
            long t0 = System.nanoTime();
            Process p = pb.start();
            // SIGINT/SIGTERM of this JVM: stop the worker and remove the staging folder before exiting
            Thread onShutdown = new Thread(() -> {
                p.destroyForcibly();
                try {
                    p.waitFor(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                deleteTree(staging);
            }, "jlens-isolated-cleanup");
            Runtime.getRuntime().addShutdownHook(onShutdown);
            int code;
            try {
                if (!p.waitFor(options.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly().waitFor();
                    throw new IsolatedWorkerCrashedException("isolated capture of " + model, -1, tail(err));
                }
                code = p.exitValue();
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the isolated capture worker", e);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(onShutdown);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running or about to: it cleans up
                }
            }
            switch (code) {
                case 0 -> { }
                case 2 -> throw new IllegalArgumentException(workerMessage(err));
                case IsolatedWorker.HOST_GONE -> throw new IsolatedWorkerCrashedException("isolated capture of " + model, code, tail(err));
                case 1 -> throw new IOException("isolated capture worker failed: " + workerMessage(err));
                default -> throw new IsolatedWorkerCrashedException("isolated capture of " + model, code, tail(err));
            }
            Map<String, Object> info = Json.MAPPER.readValue(workOut.resolve("capture.json").toFile(), new TypeReference<>() {});
            Files.createDirectories(out);
            // capture.json last: its presence in the output folder marks a complete set
            for (String f : List.of("activations.npy", "tokens.csv", "capture.json")) move(workOut.resolve(f), out.resolve(f));
            return new CaptureJob.Result(out.resolve("activations.npy"), out.resolve("tokens.csv"), ((Number) info.get("rows")).longValue(),
                    ((Number) info.get("n_embd")).intValue(), layer, (System.nanoTime() - t0) / 1e9);
        } finally {
            deleteTree(staging);
        }
    }

    /** In each staging folder: the host that owns it ("pid start-instant"), so a later run can tell a dead one's. */
    static final String HOST_FILE = "host";

    static String hostId(ProcessHandle h) {
        return h.pid() + " " + h.info().startInstant().map(Object::toString).orElse("?");
    }

    /**
     * Removes staging folders of earlier runs into {@code out} whose host is gone (a host and its worker both killed
     * with -9, a power cut): {@code .<out>.isolated-*} whose host file names a process that no longer runs, or that
     * has no host file (an unfinished start, or a jlens before this one) and is older than a day. A folder of a live
     * host, such as a concurrent run into the same output, is left alone.
     */
    static void removeStaleStaging(Path out) {
        String prefix = "." + out.getFileName() + ".isolated-";
        try (Stream<Path> s = Files.list(out.getParent())) {
            for (Path d : s.filter(p -> p.getFileName().toString().startsWith(prefix) && Files.isDirectory(p)).toList()) {
                if (stale(d)) {
                    LOG.log(System.Logger.Level.INFO, "removing {0}, left by an isolated capture whose host is gone", d);
                    deleteTree(d);
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not look for stale staging folders next to {0}: {1}", out, e.getMessage());
        }
    }

    private static boolean stale(Path staging) throws IOException {
        Path host = staging.resolve(HOST_FILE);
        if (!Files.isRegularFile(host)) {
            return Files.getLastModifiedTime(staging).toInstant().isBefore(java.time.Instant.now().minus(Duration.ofDays(1)));
        }
        String[] id = Files.readString(host).strip().split(" ", 2);
        try {
            return ProcessHandle.of(Long.parseLong(id[0])).filter(ProcessHandle::isAlive).map(IsolatedCapture::hostId)
                    .map(live -> !live.equals(String.join(" ", id))).orElse(true);
        } catch (NumberFormatException e) {
            return true;
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            LOG.log(System.Logger.Level.WARNING, "{0}: atomic rename not supported, falling back to a plain move", to);
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The worker's own error line (it prints one prefixed line for exit codes 1 and 2), else its stderr tail. */
    private static String workerMessage(Path err) throws IOException {
        String tail = tail(err);
        int at = tail.lastIndexOf(ERROR_PREFIX);
        return at < 0 ? "worker stderr: " + tail : tail.substring(at + ERROR_PREFIX.length()).strip();
    }

    /** The last {@value #STDERR_TAIL_BYTES} bytes of the worker's stderr (the assertion is printed last). */
    static String tail(Path err) throws IOException {
        if (!Files.isRegularFile(err)) return "";
        try (RandomAccessFile f = new RandomAccessFile(err.toFile(), "r")) {
            long n = f.length();
            long from = Math.max(0, n - STDERR_TAIL_BYTES);
            byte[] b = new byte[(int) (n - from)];
            f.seek(from);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8).strip();
        }
    }

    /** Removes {@code dir} and everything in it; the host and a worker whose host died may both try (quietly). */
    static void deleteTree(Path dir) {
        // the host's main thread and its shutdown hook (or a worker whose host died) may delete at the same time: a
        // walk that trips over an entry the other side removed looks again instead of giving up, since the other
        // side may be stopped half-way (the JVM halts once its hooks are done)
        IOException last = null;
        for (int attempt = 0; attempt < 10 && Files.exists(dir); attempt++) {
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    try {
                        Files.deleteIfExists(p);
                    } catch (java.nio.file.DirectoryNotEmptyException refilled) {
                        // something was written into it meanwhile: the next walk takes it
                    }
                }
            } catch (java.nio.file.NoSuchFileException | java.io.UncheckedIOException gone) {
                // an entry was removed by the other side meanwhile: walk again
            } catch (IOException e) {
                last = e;
            }
        }
        if (Files.exists(dir)) {
            LOG.log(System.Logger.Level.WARNING, "could not remove the staging folder {0}: {1}", dir, last == null ? "still refilled" : last.getMessage());
        }
    }
}
