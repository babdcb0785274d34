package dev.jlens.llama;

import dev.jlens.bindings.BindingsVersion;
import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.NativeSymbols;
import dev.jlens.bindings.ggml_log_callback;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Loads the pinned llama.cpp build by path with {@link SymbolLookup#libraryLookup} (dlopen RTLD_LOCAL).
 * Our libraries carry their own SONAMEs (libjlens-*.so.0): the dynamic loader resolves a DT_NEEDED entry
 * against any already-loaded object with that SONAME, so with upstream names another wrapper's
 * libggml.so.0 loaded first would silently stand in for ours. Then it checks that the build is the
 * version the bindings were generated from, routes native logs into {@link System.Logger}
 * "dev.jlens.llama.native", loads the backend modules and initialises the backend.
 *
 * <p>Two layouts of a build folder are accepted. Portable (the default of scripts/build-native.sh, and what
 * the jar carries): no CPU code is linked into libjlens-ggml; ggml's CPU backend comes as one module per
 * x86 feature level, {@code libggml-cpu-<variant>.so}, and {@code ggml_backend_load_all_from_path(dir)}
 * loads the one that scores best on this CPU (and {@code libggml-cuda.so} where a CUDA build has it and a
 * driver is present). The modules are opened by full path, RTLD_LOCAL, and link our libjlens-ggml-base,
 * so another wrapper's identically named modules stay its own. Native ({@code build-native.sh --native}):
 * one CPU backend compiled for the build machine, linked in as libjlens-ggml-cpu.so.0.
 *
 * <p>Directory, first match wins: system property {@code jlens.native.dir}, environment variable
 * {@code JLENS_NATIVE_DIR}, then the copy packaged in the jar (or in the build's classes folder), extracted
 * once to {@code ~/.cache/jlens/natives/<commit>-<hash of its file list>} (or {@code $JLENS_CACHE/natives/...}).
 * Only an explicit setting overrides the packaged build: a {@code native/lib} that happens to lie above the working
 * directory is never picked up by itself (the checkout's scripts and Maven's tests name it with the property). When
 * the jar carries no libraries and nothing is set, the error names the {@code native/lib} folders it found above the
 * working directory, so the fix is one setting away.
 * The libraries stay loaded for the life of the process (llama.cpp keeps global state), so their arena
 * is never closed.
 */
public final class NativeLibrary {
    /** The linked libraries by SONAME, in load order (each one's DT_NEEDED entries name the ones before it). Our build's own names (see CMakeLists.txt): distinct SONAMEs from any upstream libggml/libllama in the process. */
    static final String[] LIBS = {"libjlens-ggml-base.so.0", "libjlens-ggml.so.0", "libjlens-llama.so.0"};
    /** The CPU backend of a --native build, linked into libjlens-ggml (loaded after ggml-base). */
    static final String LINKED_CPU = "libjlens-ggml-cpu.so.0";
    /** File-name pattern of ggml's CPU backend modules (portable build). */
    static final java.util.regex.Pattern CPU_MODULE = java.util.regex.Pattern.compile("libggml-cpu(-[A-Za-z0-9_.]+)?\\.so");
    /** The jar's list of packaged files: "sha256  name" per line, written by scripts/build-native.sh. */
    static final String LIST = "natives.list";
    static final String JAR_DIR = "/dev/jlens/natives/linux-x86_64/";
    private static final System.Logger NATIVE_LOG = System.getLogger("dev.jlens.llama.native");

    private static final Object LOCK = new Object();
    private static volatile NativeLibrary loaded;

    private final Path dir;
    private final String ggmlCommit;
    private final String ggmlVersion;
    private final Path cpuBackend;
    private final Arena arena;

    private NativeLibrary(Path dir, String ggmlCommit, String ggmlVersion, Path cpuBackend, Arena arena) {
        this.dir = dir;
        this.ggmlCommit = ggmlCommit;
        this.ggmlVersion = ggmlVersion;
        this.cpuBackend = cpuBackend;
        this.arena = arena;
    }

    /** Loads (once) and returns the library; throws {@link LlamaException} with the reason when it cannot. */
    public static NativeLibrary load() {
        NativeLibrary l = loaded;
        if (l != null) return l;
        synchronized (LOCK) {
            if (loaded != null) return loaded;
            // once the bindings are bound to a library that then failed its checks, no other library can be
            // bound in this process: every later call gets the first failure, not a confusing new one
            if (failure != null) throw new LlamaException(failure.getMessage() + " (first load attempt in this process failed)", failure);
            try {
                loaded = doLoad(locate());
            } catch (LlamaException e) {
                if (NativeSymbols.isInstalled()) failure = e;
                throw e;
            }
            return loaded;
        }
    }

    private static LlamaException failure;

    public Path directory() { return dir; }

    /** ggml_commit() of the loaded build (short git hash). */
    public String ggmlCommit() { return ggmlCommit; }

    public String ggmlVersion() { return ggmlVersion; }

    /**
     * The file the CPU backend runs from: the {@code libggml-cpu-<variant>.so} module ggml chose for this CPU
     * (portable build), or libjlens-ggml-cpu.so.0 (native build). Read from /proc/self/maps after loading.
     */
    public Path cpuBackend() { return cpuBackend; }

    /** llama_print_system_info(): CPU features and backends of the loaded build. */
    public String systemInfo() {
        return LlamaH.llama_print_system_info().reinterpret(Integer.MAX_VALUE).getString(0);
    }

    static Path locate() {
        List<String> tried = new ArrayList<>();
        String prop = System.getProperty("jlens.native.dir");
        if (prop != null && !prop.isBlank()) return checkDir(Path.of(prop), "system property jlens.native.dir");
        String env = System.getenv("JLENS_NATIVE_DIR");
        if (env != null && !env.isBlank()) return checkDir(Path.of(env), "environment variable JLENS_NATIVE_DIR");
        Path extracted = extractFromJar();
        if (extracted != null) return extracted;
        // no packaged copy (classes built without native/lib): a build folder above the working directory is only named
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path cand = p.resolve("native/lib");
            if (Files.isRegularFile(cand.resolve("libjlens-llama.so.0"))) tried.add(cand.toString());
        }
        throw new LlamaException("llama.cpp libraries not found: neither -Djlens.native.dir nor JLENS_NATIVE_DIR is set and "
                + "this jlens build carries none" + (tried.isEmpty() ? "" : " (a build is in " + String.join(", ", tried)
                + ": point -Djlens.native.dir at it)") + "; run scripts/build-native.sh, or set -Djlens.native.dir / JLENS_NATIVE_DIR", null);
    }

    /** One packaged file: its name and the SHA-256 its bytes must have. */
    record Packaged(String name, String sha256) {}

    /** Parses the packaged file list; a malformed list means a broken jar. */
    static List<Packaged> parseList(String text) {
        List<Packaged> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) continue;
            String[] f = line.strip().split("\\s+");
            if (f.length != 2 || !f[0].matches("[0-9a-f]{64}") || !f[1].matches("lib[A-Za-z0-9_.+-]+\\.so(\\.0)?"))
                throw new LlamaException("the jar's " + LIST + " has a malformed line '" + line + "': a broken jlens jar", null);
            out.add(new Packaged(f[1], f[0]));
        }
        return out;
    }

    /** The cache root for extracted libraries: {@code $JLENS_CACHE}, else {@code ~/.cache/jlens}. */
    static Path cacheRoot() {
        String cache = System.getenv("JLENS_CACHE");
        return cache != null && !cache.isBlank() ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache", "jlens");
    }

    static Path extractFromJar() {
        String unsupported = unsupportedPlatform(System.getProperty("os.name"), System.getProperty("os.arch"));
        if (unsupported != null && NativeLibrary.class.getResource(JAR_DIR + LIST) != null) throw new LlamaException(unsupported, null);
        return extractFromJar(cacheRoot());
    }

    /** Why the packaged linux-x86_64 libraries cannot run on this OS/architecture, or null when they can. */
    static String unsupportedPlatform(String osName, String osArch) {
        boolean linux = osName != null && osName.toLowerCase(java.util.Locale.ROOT).startsWith("linux");
        boolean x64 = "amd64".equals(osArch) || "x86_64".equals(osArch);
        if (linux && x64) return null;
        return "the jlens jar carries llama.cpp for linux-x86_64 only, this is " + osName + "/" + osArch
                + ": build it here with scripts/build-native.sh and point -Djlens.native.dir (or JLENS_NATIVE_DIR) at the result";
    }

    /**
     * Extracts the packaged libraries (if this jar has them) into {@code root/natives/<commit>-<hash of the list>},
     * atomically: each file is checked against its SHA-256 from the list while it is written into a temporary
     * folder, which is then renamed, so a reader never sees half a folder and processes may race (the loser uses
     * the winner's folder). A folder that lacks a listed file (damaged by hand) is replaced. Returns null when
     * this jar carries no libraries.
     */
    static Path extractFromJar(Path root) {
        try {
            String listText;
            try (var in = NativeLibrary.class.getResourceAsStream(JAR_DIR + LIST)) {
                if (in == null) return null;
                listText = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            }
            List<Packaged> files = parseList(listText);
            var md = java.security.MessageDigest.getInstance("SHA-256");
            String id = BindingsVersion.COMMIT.substring(0, 12) + "-"
                    + java.util.HexFormat.of().formatHex(md.digest(listText.getBytes(java.nio.charset.StandardCharsets.UTF_8))).substring(0, 12);
            Path dir = root.resolve("natives").resolve(id);
            if (complete(dir, files)) return dir;
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), "." + id + ".");
            try {
                for (Packaged f : files) {
                    try (var in = NativeLibrary.class.getResourceAsStream(JAR_DIR + f.name())) {
                        if (in == null) throw new LlamaException("the jar lists " + f.name() + " in " + LIST + " but does not contain it: a broken jlens jar", null);
                        md.reset();
                        try (var out = new java.security.DigestOutputStream(Files.newOutputStream(tmp.resolve(f.name())), md)) {
                            in.transferTo(out);
                        }
                    }
                    String got = java.util.HexFormat.of().formatHex(md.digest());
                    if (!got.equals(f.sha256()))
                        throw new LlamaException("packaged " + f.name() + " has SHA-256 " + got + ", the jar's list says " + f.sha256() + ": a broken jlens jar", null);
                }
                if (Files.isDirectory(dir) && !complete(dir, files)) {
                    // damaged: move it out of the way (a rename, so a racing reader never sees it half deleted)
                    Path old = dir.resolveSibling("." + id + ".damaged." + ProcessHandle.current().pid() + "." + System.nanoTime());
                    try {
                        Files.move(dir, old, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                    } catch (java.nio.file.NoSuchFileException gone) {
                        // another process moved it first
                    }
                    deleteTree(old);
                }
                try {
                    Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                } catch (java.nio.file.FileSystemException e) {
                    // rename(2) onto a folder another process completed meanwhile fails with ENOTEMPTY, which Java
                    // reports as a plain FileSystemException: use theirs
                    if (!complete(dir, files)) throw e;
                }
            } finally {
                deleteTree(tmp);
            }
            if (!complete(dir, files)) throw new LlamaException("cannot extract the packaged llama.cpp libraries into " + dir + ": it is incomplete after extraction", null);
            return dir;
        } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
            throw new LlamaException("cannot extract the packaged llama.cpp libraries: " + e.getMessage(), e);
        }
    }

    /** Whether {@code dir} holds every listed file (extraction only ever renames complete folders into place). */
    private static boolean complete(Path dir, List<Packaged> files) {
        if (!Files.isDirectory(dir)) return false;
        for (Packaged f : files) if (!Files.isRegularFile(dir.resolve(f.name()))) return false;
        return true;
    }

    private static void deleteTree(Path tmp) throws java.io.IOException {
        if (!Files.exists(tmp)) return;
        try (var s = Files.list(tmp)) {
            for (Path f : s.toList()) Files.deleteIfExists(f);
        }
        Files.deleteIfExists(tmp);
    }

    /** The CPU backend modules of a portable build in {@code dir}, sorted by name (empty for a native build). */
    static List<String> cpuModules(Path dir) {
        try (var s = Files.list(dir)) {
            return s.map(f -> f.getFileName().toString()).filter(n -> CPU_MODULE.matcher(n).matches()).sorted().toList();
        } catch (java.io.IOException e) {
            throw new LlamaException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    static Path checkDir(Path dir, String source) {
        if (!Files.isDirectory(dir)) throw new LlamaException(source + " points to " + dir + ", which is not a folder: run scripts/build-native.sh or fix the path", null);
        for (String lib : LIBS) {
            if (!Files.isRegularFile(dir.resolve(lib))) {
                throw new LlamaException(source + " points to " + dir + ", which has no " + lib
                        + ": run scripts/build-native.sh or fix the path", null);
            }
        }
        if (!Files.isRegularFile(dir.resolve(LINKED_CPU)) && cpuModules(dir).isEmpty()) {
            throw new LlamaException(source + " points to " + dir + ", which has no CPU backend (neither " + LINKED_CPU
                    + " nor libggml-cpu-<variant>.so modules): an incomplete build; run scripts/build-native.sh", null);
        }
        return dir.toAbsolutePath();
    }

    /** The variable ggml reads before printing a backtrace on abort (ggml.c ggml_print_backtrace, ggml.cpp at load). */
    static final String NO_BACKTRACE = "GGML_NO_BACKTRACE";

    /**
     * Sets {@value #NO_BACKTRACE}=1 in this process's C environment (libc setenv, not overwriting a value already
     * there) before ggml is loaded. Without it ggml's abort path forks a child that waits on a pipe before starting
     * gdb; when two threads of one graph hit the same GGML_ASSERT, each child inherits the other's pipe end and both
     * wait forever, so the process hangs instead of dying (seen for 15 minutes with rope.dimension_count 15). ggml.cpp
     * reads the variable once when the library loads (its std::terminate hook) and ggml.c on every abort, so it must
     * be set before the first dlopen. {@code -Djlens.ggml.backtrace=true} keeps ggml's backtrace for debugging.
     * setenv is not safe against a concurrent getenv in another native thread; it runs once, under the load lock,
     * before any llama.cpp thread exists.
     */
    static void disableGgmlBacktrace() {
        if (Boolean.getBoolean("jlens.ggml.backtrace")) return;
        Linker linker = Linker.nativeLinker();
        MemorySegment setenv = linker.defaultLookup().find("setenv")
                .orElseThrow(() -> new LlamaException("libc has no setenv: cannot set " + NO_BACKTRACE + " before loading ggml", null));
        MethodHandle h = linker.downcallHandle(setenv, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        try (Arena a = Arena.ofConfined()) {
            int rc = (int) h.invokeExact(a.allocateFrom(NO_BACKTRACE), a.allocateFrom("1"), 0);
            if (rc != 0) throw new LlamaException("setenv(" + NO_BACKTRACE + ") failed with " + rc, null);
        } catch (LlamaException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaException("setenv(" + NO_BACKTRACE + ") failed: " + t, t);
        }
    }

    /** {@value #NO_BACKTRACE} as this process's C environment has it now (null when unset); for tests. */
    static String ggmlNoBacktrace() {
        Linker linker = Linker.nativeLinker();
        MethodHandle h = linker.downcallHandle(linker.defaultLookup().find("getenv").orElseThrow(), FunctionDescriptor.of(ADDRESS, ADDRESS));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = (MemorySegment) h.invokeExact(a.allocateFrom(NO_BACKTRACE));
            return v.equals(MemorySegment.NULL) ? null : v.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            throw new LlamaException("getenv(" + NO_BACKTRACE + ") failed: " + t, t);
        }
    }

    private static NativeLibrary doLoad(Path dir) {
        disableGgmlBacktrace();
        Arena arena = Arena.ofShared(); // never closed: the libraries live as long as the process
        SymbolLookup lookup = null;
        List<String> libs = new ArrayList<>(List.of(LIBS));
        boolean linkedCpu = Files.isRegularFile(dir.resolve(LINKED_CPU));
        if (linkedCpu) libs.add(1, LINKED_CPU);
        for (String lib : libs) {
            Path p = dir.resolve(lib);
            SymbolLookup one;
            try {
                one = SymbolLookup.libraryLookup(p, arena);
            } catch (IllegalArgumentException e) {
                throw new LlamaException("cannot load " + p + ": " + e.getMessage(), e);
            }
            lookup = lookup == null ? one : lookup.or(one);
        }
        NativeSymbols.install(lookup);
        String commit;
        String version;
        try {
            commit = LlamaH.ggml_commit().reinterpret(256).getString(0);
            version = LlamaH.ggml_version().reinterpret(256).getString(0);
        } catch (RuntimeException | LinkageError e) {
            throw new LlamaException("the library in " + dir + " lacks ggml_commit/ggml_version: not the pinned llama.cpp", e);
        }
        checkVersion(dir, commit);
        MemorySegment logCb = ggml_log_callback.allocate(NativeLibrary::onLog, arena);
        LlamaH.llama_log_set(logCb, MemorySegment.NULL);
        if (!linkedCpu) {
            // portable build: ggml scores every libggml-<backend>-*.so in the folder and loads the best per backend
            try (Arena a = Arena.ofConfined()) {
                LlamaH.ggml_backend_load_all_from_path(a.allocateFrom(dir.toString()));
            }
        }
        if (LlamaH.ggml_backend_dev_by_type(LlamaH.GGML_BACKEND_DEVICE_TYPE_CPU()).equals(MemorySegment.NULL)) {
            throw new LlamaException("no CPU backend could be loaded from " + dir + " (modules there: " + cpuModules(dir)
                    + "): none of them runs on this CPU, or they were built from another llama.cpp", null);
        }
        Path cpu = mappedFrom(dir, linkedCpu ? java.util.regex.Pattern.compile(java.util.regex.Pattern.quote(LINKED_CPU) + "(\\.[0-9.]+)?") : CPU_MODULE);
        LlamaH.llama_backend_init();
        return new NativeLibrary(dir, commit, version, cpu, arena);
    }

    /** The file from {@code dir} whose name matches {@code name} that this process has mapped (null if none is). */
    static Path mappedFrom(Path dir, java.util.regex.Pattern name) {
        try {
            Path real = dir.toRealPath();
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                int slash = line.indexOf('/');
                if (slash < 0) continue;
                Path f = Path.of(line.substring(slash));
                if (real.equals(f.getParent()) && name.matcher(f.getFileName().toString()).matches()) return f;
            }
            return null;
        } catch (java.io.IOException e) {
            return null; // informational only
        }
    }

    /** The loaded ggml must come from the commit the bindings were generated from (struct layouts depend on it). */
    static void checkVersion(Path dir, String loadedCommit) {
        String c = loadedCommit.endsWith("-dirty") ? loadedCommit.substring(0, loadedCommit.length() - 6) : loadedCommit;
        if (c.length() < 7 || !BindingsVersion.COMMIT.startsWith(c)) {
            throw new LlamaException("llama.cpp in " + dir + " is commit '" + loadedCommit + "', but the bindings were generated from "
                    + BindingsVersion.COMMIT + " (" + BindingsVersion.RELEASE_TAG + "): rebuild with scripts/build-native.sh "
                    + "or regenerate the bindings with scripts/generate-bindings.sh", null);
        }
    }

    // llama.cpp log lines arrive in pieces (GGML_LOG_LEVEL_CONT continues the previous line).
    private static final StringBuilder PENDING = new StringBuilder();
    private static System.Logger.Level pendingLevel = System.Logger.Level.DEBUG;

    private static void onLog(int level, MemorySegment text, MemorySegment user) {
        try {
            String s = text.reinterpret(1 << 20).getString(0);
            synchronized (PENDING) {
                if (level != LlamaH.GGML_LOG_LEVEL_CONT()) pendingLevel = map(level);
                PENDING.append(s);
                int nl;
                while ((nl = PENDING.indexOf("\n")) >= 0) {
                    String line = PENDING.substring(0, nl);
                    PENDING.delete(0, nl + 1);
                    if (!line.isBlank()) NATIVE_LOG.log(pendingLevel, line);
                }
            }
        } catch (Throwable ignored) {
            // an exception escaping an upcall kills the JVM; a lost log line is the lesser evil
        }
    }

    private static System.Logger.Level map(int level) {
        if (level == LlamaH.GGML_LOG_LEVEL_ERROR()) return System.Logger.Level.ERROR;
        if (level == LlamaH.GGML_LOG_LEVEL_WARN()) return System.Logger.Level.WARNING;
        if (level == LlamaH.GGML_LOG_LEVEL_INFO()) return System.Logger.Level.DEBUG; // llama.cpp is chatty at INFO
        return System.Logger.Level.TRACE;
    }
}
