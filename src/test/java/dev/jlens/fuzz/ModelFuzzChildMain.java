package dev.jlens.fuzz;

import dev.jlens.llama.Context;
import dev.jlens.llama.Model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Child-JVM body of {@link ModelDifferentialFuzzTest}: for each model file listed in {@code args[0]} (one path per
 * line, from line {@code args[1]} on) prints "START i", loads it as jlens does (Java check, then llama.cpp),
 * captures two prompts at the last layer with the full forward and takes next-token logits, then prints
 * "OK i", "NAN i" (non-finite logits) or "ERR i &lt;exception&gt;". A native abort ends the process after
 * "START i": the parent records it and starts a new child at i + 1.
 */
public final class ModelFuzzChildMain {
    public static void main(String[] args) throws Exception {
        List<String> files = Files.readAllLines(Path.of(args[0]));
        for (int i = Integer.parseInt(args[1]); i < files.size(); i++) {
            System.out.println("START " + i);
            System.out.flush();
            String result;
            try (Model m = Model.load(Path.of(files.get(i)));
                 Context c = m.newContext(Context.Params.defaults().withCtx(64).withUbatch(16).withSeqMax(2).withThreads(2))) {
                List<int[]> prompts = List.of(m.vocab().tokenize("The capital of France is Paris."), m.vocab().tokenize("hello world"));
                try (var a = c.capture(prompts, new Context.CaptureSpec(new int[] {m.nLayer() - 1}, false))) {
                    if (a.rows() == 0) throw new IllegalStateException("no rows");
                }
                boolean finite = true;
                for (float f : c.nextTokenLogits(prompts.get(0))) finite &= Float.isFinite(f);
                result = (finite ? "OK " : "NAN ") + i;
            } catch (Exception | Error e) {
                result = "ERR " + i + " " + (e.getClass().getSimpleName() + ": " + e.getMessage()).replace('\n', ' ');
            }
            System.out.println(result);
            System.out.flush();
        }
    }
}
