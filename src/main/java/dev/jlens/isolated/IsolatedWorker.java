package dev.jlens.isolated;

import dev.jlens.formats.FormatException;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.llama.NativeProbe;
import dev.jlens.activations.CaptureJob;
import dev.jlens.util.Json;
import dev.jlens.util.Progress;

import java.nio.file.Path;

/**
 * The worker process of {@link IsolatedCapture}: {@code IsolatedWorker <request.json> <outDir>}. Exit codes:
 * 0 done, 2 bad input, 1 failed run (each failure prints one line starting with "jlens-worker: "); a native
 * abort ends it with 134 before it can say anything.
 */
public final class IsolatedWorker {
    private IsolatedWorker() {}

    /** Set by {@link IsolatedCapture} in the worker's environment: the host holds the worker's stdin pipe open. */
    static final String WATCH_STDIN = "JLENS_WORKER_WATCH_STDIN";
    /** Exit code of a worker whose host went away (it removed the host's staging folder first). */
    static final int HOST_GONE = 3;

    public static void main(String[] args) {
        if ("1".equals(System.getenv(WATCH_STDIN)) && args.length == 2) dieWithHost(Path.of(args[0]).toAbsolutePath().getParent());
        IsolatedCommand.armDrill(); // tests only: JLENS_ISOLATED_DRILL
        System.exit(run(args));
    }

    /**
     * Ties this worker's life to its host's: the host holds our stdin pipe and never writes to it, so end-of-file
     * means the host closed it or died (SIGINT, SIGTERM, kill -9: the kernel closes a dead process's pipes). Then
     * the worker removes the host's staging folder (nobody else would: a host killed with -9 runs no finally block)
     * and halts at once, even in the middle of a llama_decode.
     */
    private static void dieWithHost(Path staging) {
        Thread t = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // the host never writes; anything read is ignored
                }
            } catch (java.io.IOException e) {
                // a broken pipe is end-of-file too
            }
            if (staging != null && staging.getFileName().toString().contains(".isolated-")) IsolatedCapture.deleteTree(staging);
            Runtime.getRuntime().halt(HOST_GONE);
        }, "jlens-worker-host-watch");
        t.setDaemon(true);
        t.start();
    }

    static int run(String[] args) {
        if (args.length != 2) {
            System.err.println(IsolatedCapture.ERROR_PREFIX + "usage: IsolatedWorker <request.json> <outDir>");
            return 2;
        }
        try {
            IsolatedCapture.Request r = Json.MAPPER.readValue(Path.of(args[0]).toFile(), IsolatedCapture.Request.class);
            Context.Params p = Context.Params.defaults().withCtx(r.nCtx()).withUbatch(r.nUbatch()).withSeqMax(r.nSeqMax()).withThreads(r.nThreads());
            try (Model m = Model.load(Path.of(r.model()), new Model.Params(r.gpuLayers(), true))) {
                if (r.abortAfterLoad()) abortInNative();
                CaptureJob.run(m, r.prompts(), r.layer(), Path.of(args[1]), p, Progress.NONE);
            }
            return 0;
        } catch (FormatException | IllegalArgumentException | java.nio.file.NoSuchFileException e) {
            System.err.println(IsolatedCapture.ERROR_PREFIX + e.getMessage());
            return 2;
        } catch (Exception | Error e) {
            System.err.println(IsolatedCapture.ERROR_PREFIX + e);
            return 1;
        }
    }

    /** A real GGML_ASSERT (ggml_new_tensor_impl: type < GGML_TYPE_COUNT), reached through the bindings. */
    private static void abortInNative() {
        System.err.println("jlens-worker: abortAfterLoad requested: calling ggml_new_tensor_1d with an invalid type");
        NativeProbe.newTensor1d(1_000_000);
    }
}
