package dev.jlens.isolated;

import dev.jlens.formats.FormatException;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.llama.NativeProbe;
import dev.jlens.pipeline.CaptureJob;
import dev.jlens.pipeline.Json;
import dev.jlens.pipeline.Progress;

import java.nio.file.Path;

/**
 * The worker process of {@link IsolatedCapture}: {@code IsolatedWorker <request.json> <outDir>}. Exit codes:
 * 0 done, 2 bad input, 1 failed run (each failure prints one line starting with "jlens-worker: "); a native
 * abort ends it with 134 before it can say anything.
 */
public final class IsolatedWorker {
    private IsolatedWorker() {}

    public static void main(String[] args) {
        System.exit(run(args));
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
