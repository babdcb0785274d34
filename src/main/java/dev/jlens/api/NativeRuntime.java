package dev.jlens.api;

import dev.jlens.llama.NativeLibrary;

import java.nio.file.Path;

/**
 * Which llama.cpp build this process runs: where its libraries were loaded from and which CPU backend ggml chose.
 * The packaged (portable) build carries ggml's CPU backend once per x86 feature level as
 * {@code libggml-cpu-<variant>.so} (x64, sse42, sandybridge, haswell, skylakex, icelake, zen4, alderlake, ...) and
 * loads the one that scores best on the running CPU; a build made with {@code scripts/build-native.sh --native}
 * links one backend compiled for its build machine ({@code libjlens-ggml-cpu.so.0}). Immutable; safe to share.
 *
 * <p>Where the libraries come from, first match wins: {@code -Djlens.native.dir}, {@code JLENS_NATIVE_DIR}, else the
 * copy packaged in the jar, extracted once to {@code ~/.cache/jlens/natives/<commit>-<hash>} ({@code $JLENS_CACHE}
 * instead of {@code ~/.cache/jlens}). Only those explicit settings override the jar's build: a {@code native/lib} of a
 * source checkout above the working directory is not used unless named (the checkout's scripts name it).
 *
 * @param directory   the folder the libraries were loaded from: {@code -Djlens.native.dir}, {@code JLENS_NATIVE_DIR},
 *                    or the jar's copy extracted to {@code ~/.cache/jlens/natives/<commit>-<hash>}
 * @param ggmlCommit  ggml's short git commit of the loaded build (checked against the bindings at load)
 * @param ggmlVersion ggml's version string
 * @param cpuBackend  the file the CPU backend runs from (a module of {@code directory}), or null when the process
 *                    maps none (not expected on Linux)
 * @param systemInfo  llama.cpp's system info line: the CPU features the chosen backend uses, OpenMP, other backends
 */
public record NativeRuntime(Path directory, String ggmlCommit, String ggmlVersion, Path cpuBackend, String systemInfo) {
    /**
     * Loads the native libraries (once per process; later calls return the same facts) and describes them.
     *
     * @return the loaded build
     * @throws dev.jlens.errors.NativeException with the reason (folder named, missing file, wrong commit) when they
     *         cannot be loaded
     */
    public static NativeRuntime load() {
        NativeLibrary l = NativeLibrary.load();
        return new NativeRuntime(l.directory(), l.ggmlCommit(), l.ggmlVersion(), l.cpuBackend(), l.systemInfo());
    }

    /**
     * The CPU variant's name.
     *
     * @return {@code haswell} for {@code libggml-cpu-haswell.so}, {@code native} for a --native build, {@code unknown}
     *         when no backend file is mapped
     */
    public String cpuVariant() {
        if (cpuBackend == null) return "unknown";
        String n = cpuBackend.getFileName().toString();
        if (n.startsWith("libjlens-ggml-cpu.so")) return "native";
        if (n.startsWith("libggml-cpu-") && n.endsWith(".so")) return n.substring("libggml-cpu-".length(), n.length() - 3);
        return n;
    }
}
