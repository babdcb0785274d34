package dev.jlens.llama;

import dev.jlens.api.NativeRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Which natives load (issue 18): a {@code native/lib} above the working directory must not replace the packaged build;
 * only an explicit setting ({@code -Djlens.native.dir} / {@code JLENS_NATIVE_DIR}) may. Each case is a child JVM on
 * the test class path (whose classes folder carries the packaged natives, as the jar does) started in a folder whose
 * {@code native/lib} holds a bogus build: files with the right names and garbage content, which dlopen refuses.
 */
class NativePrecedenceTest {
    @TempDir Path tmp;

    /** The child: loads the natives and prints where from. */
    public static final class Child {
        public static void main(String[] args) {
            try {
                NativeRuntime n = NativeRuntime.load();
                System.out.println("natives from " + n.directory() + " cpu " + n.cpuBackend());
            } catch (dev.jlens.errors.NativeException e) { // the API's exported type
                System.out.println("NativeException: " + e.getMessage());
                System.exit(3);
            }
        }
    }

    private record Run(int exit, String out) {}

    private Run child(Path cwd, List<String> props, String envDir) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC"));
        cmd.addAll(props);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        pb.environment().remove("JLENS_NATIVE_DIR");
        if (envDir != null) pb.environment().put("JLENS_NATIVE_DIR", envDir);
        pb.environment().put("JLENS_CACHE", tmp.resolve("cache").toString());
        pb.environment().put("GGML_NO_BACKTRACE", "1");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child timed out: " + out);
        return new Run(p.exitValue(), out);
    }

    /** A working folder {@code work/sub} below a {@code work/native/lib} with every file the loader looks for, all garbage. */
    private Path bogusCheckout() throws Exception {
        Path lib = Files.createDirectories(tmp.resolve("work/native/lib"));
        for (String f : List.of("libjlens-ggml-base.so.0", "libjlens-ggml.so.0", "libjlens-llama.so.0", "libjlens-ggml-cpu.so.0", "libggml-cpu-x64.so"))
            Files.writeString(lib.resolve(f), "not a shared library\n");
        return Files.createDirectories(tmp.resolve("work/sub"));
    }

    @Test
    void aNativeLibAboveTheWorkingDirectoryDoesNotReplaceThePackagedBuild() throws Exception {
        assumeTrue(NativeLibrary.class.getResource(NativeLibrary.JAR_DIR + NativeLibrary.LIST) != null,
                "no packaged natives on the class path (scripts/build-native.sh, then Maven copies them)");
        Path cwd = bogusCheckout();
        Run r = child(cwd, List.of(), null);
        assertEquals(0, r.exit(), r.out());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("natives from (\\S+) cpu (\\S+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        Path dir = Path.of(m.group(1)).toRealPath();
        Path cache;
        try (Stream<Path> s = Files.list(tmp.resolve("cache/natives"))) {
            List<Path> dirs = s.toList();
            assertEquals(1, dirs.size(), dirs.toString());
            cache = dirs.get(0).toRealPath();
        }
        assertEquals(cache, dir, "the packaged build, extracted into the cache: " + r.out());
        assertEquals(cache, Path.of(m.group(2)).toRealPath().getParent(), "the CPU backend from the packaged build too: " + r.out());
        assertFalse(r.out().contains(tmp.resolve("work/native/lib").toString()), r.out());
    }

    @Test
    void anExplicitSettingStillWins() throws Exception {
        Path cwd = bogusCheckout();
        Path bogus = tmp.resolve("work/native/lib");
        for (Run r : List.of(child(cwd, List.of("-Djlens.native.dir=" + bogus), null), child(cwd, List.of(), bogus.toString()))) {
            assertEquals(3, r.exit(), "fails as the API's NativeException: " + r.out());
            assertTrue(r.out().contains("cannot load " + bogus.toAbsolutePath()), "the explicitly named (bogus) build is the one tried: " + r.out());
        }
        assertFalse(Files.exists(tmp.resolve("cache/natives")), "nothing extracted when a folder is named");
    }
}
