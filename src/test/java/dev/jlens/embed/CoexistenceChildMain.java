package dev.jlens.embed;

import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.llama.NativeLibrary;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Child JVM of {@link NativeCoexistenceTest}: loads the second ggml FIRST (as another wrapper in the same
 * application would), uses it, then loads jlens' build and captures, then uses the second ggml again.
 * Prints one "key=value" line per fact; exits 0 only when every step worked.
 * Args: otherGgmlDir tinyModel.gguf
 */
public final class CoexistenceChildMain {
    public static void main(String[] args) throws Throwable {
        OtherGgml other = new OtherGgml(Path.of(args[0]), Arena.global());
        System.out.println("other_sum_before=" + Arrays.toString(other.add(new float[] {1, 2, 3, 4}, new float[] {10, 20, 30, 40})));
        System.out.println("other_commit=" + other.commit());

        NativeLibrary lib = NativeLibrary.load();
        System.out.println("jlens_commit=" + lib.ggmlCommit());
        // llama_print_system_info() lists the CPU backend libllama is really linked to: ours is built with OpenMP,
        // the other without, so "OPENMP = 1" shows that jlens' libllama did not bind to the other's libggml
        System.out.println("jlens_openmp=" + lib.systemInfo().contains("OPENMP = 1"));
        try (Model m = Model.load(Path.of(args[1]));
             Context c = m.newContext(Context.Params.defaults().withCtx(64).withThreads(2));
             Activations a = c.capture(List.of(m.vocab().tokenize("the capital of France is Paris")), Context.CaptureSpec.layer(3))) {
            float s = 0;
            for (int r = 0; r < a.rows(); r++) for (int k = 0; k < a.nEmbd(); k++) s += Math.abs(a.get(3, r, k));
            System.out.println("jlens_capture_rows=" + a.rows());
            System.out.println("jlens_capture_abs_sum=" + s);
        }

        System.out.println("other_sum_after=" + Arrays.toString(other.add(new float[] {1, 2, 3, 4}, new float[] {10, 20, 30, 40})));
        // the same symbol resolves to two different functions: each side is bound to its own build
        // (dlopen of an already-loaded path returns that same object)
        long mine = java.lang.foreign.SymbolLookup.libraryLookup(lib.directory().resolve("libjlens-ggml-base.so.0"), Arena.global())
                .find("ggml_init").orElseThrow().address();
        long theirs = other.find("ggml_init").address();
        System.out.println("ggml_init_distinct=" + (mine != theirs));
        String maps = Files.readString(Path.of("/proc/self/maps"));
        System.out.println("other_mapped=" + maps.contains(Path.of(args[0]).toRealPath().resolve("libggml-base.so.0").toString().replace(".so.0", ".so")));
        System.out.println("jlens_mapped=" + maps.contains("libjlens-ggml-base.so"));
        // the CPU backend modules: the other's and jlens', each from its own folder (on an AVX2 machine both are
        // libggml-cpu-haswell.so: same file name, two objects)
        java.util.Set<String> modules = new java.util.TreeSet<>();
        for (String line : maps.split("\n")) {
            int slash = line.indexOf('/');
            if (slash >= 0 && line.substring(slash).matches(".*/libggml-cpu[^/]*\\.so")) modules.add(line.substring(slash));
        }
        System.out.println("cpu_modules=" + String.join(",", modules));
        System.out.println("jlens_cpu=" + lib.cpuBackend());
        System.out.println("done");
    }
}
