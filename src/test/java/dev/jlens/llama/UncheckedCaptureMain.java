package dev.jlens.llama;

import java.nio.file.Path;
import java.util.List;

/**
 * Child-JVM body of {@link NativeAbortEndsTheProcessTest}: hands a model to llama.cpp WITHOUT the Java check
 * ({@link Model#loadUnchecked}) and captures one prompt with {@code args[1]} threads, so a file llama.cpp aborts on
 * really reaches its assertion. Prints GGML_NO_BACKTRACE as the C environment has it after loading, then
 * "RETURNED" if the capture comes back. Args: model threads.
 */
public final class UncheckedCaptureMain {
    public static void main(String[] args) {
        int threads = Integer.parseInt(args[1]);
        try (Model m = Model.loadUnchecked(Path.of(args[0]), Model.Params.defaults())) {
            System.out.println("GGML_NO_BACKTRACE=" + NativeLibrary.ggmlNoBacktrace());
            System.out.flush();
            Context.Params p = Context.Params.defaults().withCtx(256).withUbatch(64).withSeqMax(1).withThreads(threads);
            try (Context c = m.newContext(p)) {
                int[] tokens = m.vocab().tokenize("The capital of France is Paris and the cat sat on the mat");
                try (Activations a = c.capture(List.of(tokens), Context.CaptureSpec.layer(m.nLayer() - 1))) {
                    System.out.println("RETURNED " + a.rows());
                }
            }
        }
    }
}
