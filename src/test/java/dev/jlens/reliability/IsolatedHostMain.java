package dev.jlens.reliability;

import dev.jlens.isolated.IsolatedCapture;
import dev.jlens.llama.Context;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

/**
 * Child-JVM body of {@link IsolatedWorkerLifetimeTest}: a host that runs a long isolated capture (args: model, out,
 * number of prompts) so the test can kill it while its worker computes. Prints "DONE" if the capture finishes.
 */
public final class IsolatedHostMain {
    public static void main(String[] a) throws Exception {
        List<String> prompts = Collections.nCopies(Integer.parseInt(a[2]), "The capital of France is Paris, and a cat sat on the mat with bread and cheese.");
        IsolatedCapture.run(Path.of(a[0]), prompts, 13, Path.of(a[1]), Context.Params.defaults().withCtx(2048).withUbatch(512).withThreads(1), 0,
                IsolatedCapture.Options.defaults());
        System.out.println("DONE");
    }
}
