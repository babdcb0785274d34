package dev.jlens.llama;

import dev.jlens.bindings.BindingsVersion;
import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.NativeSymbols;
import dev.jlens.bindings.ggml_log_callback;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads the pinned llama.cpp build by path with {@link SymbolLookup#libraryLookup} (dlopen RTLD_LOCAL).
 * Our libraries carry their own SONAMEs (libjlens-*.so.0): the dynamic loader resolves a DT_NEEDED entry
 * against any already-loaded object with that SONAME, so with upstream names another wrapper's
 * libggml.so.0 loaded first would silently stand in for ours. Then it checks that the build is the
 * version the bindings were generated from, initialises the backend and routes native logs into
 * {@link System.Logger} "dev.jlens.llama.native".
 *
 * <p>Directory, first match wins: system property {@code jlens.native.dir}, environment variable
 * {@code JLENS_NATIVE_DIR}, {@code native/lib} in the working directory or one of its parents
 * (where scripts/build-native.sh installs the libraries), then the copy packaged in the jar, extracted
 * once to {@code ~/.cache/jlens/natives/<commit>-<content hash>} (or {@code $JLENS_CACHE/natives/...}).
 * The libraries stay loaded for the life of the process (llama.cpp keeps global state), so their arena
 * is never closed.
 */
public final class NativeLibrary {
    /** The libraries by SONAME, in load order (each one's DT_NEEDED entries name these). Our build's own names (see CMakeLists.txt): distinct SONAMEs from any upstream libggml/libllama in the process. */
    static final String[] LIBS = {"libjlens-ggml-base.so.0", "libjlens-ggml-cpu.so.0", "libjlens-ggml.so.0", "libjlens-llama.so.0"};
    private static final String JAR_DIR = "/dev/jlens/natives/linux-x86_64/";
    private static final System.Logger NATIVE_LOG = System.getLogger("dev.jlens.llama.native");

    private static final Object LOCK = new Object();
    private static volatile NativeLibrary loaded;

    private final Path dir;
    private final String ggmlCommit;
    private final String ggmlVersion;
    private final Arena arena;

    private NativeLibrary(Path dir, String ggmlCommit, String ggmlVersion, Arena arena) {
        this.dir = dir;
        this.ggmlCommit = ggmlCommit;
        this.ggmlVersion = ggmlVersion;
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
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            Path cand = p.resolve("native/lib");
            tried.add(cand.toString());
            if (Files.isRegularFile(cand.resolve("libjlens-llama.so.0"))) return cand;
            p = p.getParent();
        }
        Path extracted = extractFromJar();
        if (extracted != null) return extracted;
        throw new LlamaException("llama.cpp libraries not found (looked in " + String.join(", ", tried)
                + "): run scripts/build-native.sh, or set -Djlens.native.dir / JLENS_NATIVE_DIR", null);
    }

    /** Extracts the packaged libraries (if this jar has them) into a per-version cache folder, atomically. */
    static Path extractFromJar() {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            byte[][] bytes = new byte[LIBS.length][];
            for (int i = 0; i < LIBS.length; i++) {
                try (var in = NativeLibrary.class.getResourceAsStream(JAR_DIR + LIBS[i])) {
                    if (in == null) return null;
                    bytes[i] = in.readAllBytes();
                }
                md.update(bytes[i]);
            }
            String id = BindingsVersion.COMMIT.substring(0, 12) + "-" + java.util.HexFormat.of().formatHex(md.digest()).substring(0, 12);
            String cache = System.getenv("JLENS_CACHE");
            Path root = cache != null && !cache.isBlank() ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache", "jlens");
            Path dir = root.resolve("natives").resolve(id);
            if (Files.isRegularFile(dir.resolve("libjlens-llama.so.0"))) return dir;
            Files.createDirectories(dir.getParent());
            Path tmp = Files.createTempDirectory(dir.getParent(), "." + id + ".");
            for (int i = 0; i < LIBS.length; i++) Files.write(tmp.resolve(LIBS[i]), bytes[i]);
            try {
                Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                // another process extracted it first: use theirs
                for (String l : LIBS) Files.deleteIfExists(tmp.resolve(l));
                Files.deleteIfExists(tmp);
            }
            return dir;
        } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
            throw new LlamaException("cannot extract the packaged llama.cpp libraries: " + e.getMessage(), e);
        }
    }

    private static Path checkDir(Path dir, String source) {
        for (String lib : LIBS) {
            if (!Files.isRegularFile(dir.resolve(lib))) {
                throw new LlamaException(source + " points to " + dir + ", which has no " + lib
                        + ": run scripts/build-native.sh or fix the path", null);
            }
        }
        return dir.toAbsolutePath();
    }

    private static NativeLibrary doLoad(Path dir) {
        Arena arena = Arena.ofShared(); // never closed: the libraries live as long as the process
        SymbolLookup lookup = null;
        for (String lib : LIBS) {
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
        LlamaH.llama_backend_init();
        MemorySegment logCb = ggml_log_callback.allocate(NativeLibrary::onLog, arena);
        LlamaH.llama_log_set(logCb, MemorySegment.NULL);
        return new NativeLibrary(dir, commit, version, arena);
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
