package dev.jlens.reliability;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Concurrent launches of scripts/jlens (issue 17, point 7): 5 of 9 failed because every launch re-ran
 * build-native.sh (it looked for libllama.so; the build makes libjlens-llama.so.0), which deleted and re-copied
 * the library folder under the feet of the others. Now the launcher builds only when the install is missing or
 * incomplete, build and install run under flock, and the install is renamed into place. Here 6 launches start
 * at once on a missing library folder (JLENS_NATIVE_OUT), then 6 more on the installed one; every one must run
 * `jlens natives` (which loads the libraries) with exit 0, and the second wave must not reinstall anything.
 * Uses the cached llama.cpp build (scripts/test.sh builds it first); runs from the test classes (JLENS_CLASSPATH).
 */
class LauncherConcurrencyTest {
    @TempDir static Path dir;
    static final Path LAUNCHER = Path.of("scripts", "jlens").toAbsolutePath();
    static final int LAUNCHES = 6;

    record Launch(int code, String stdout, String stderr) {}

    @BeforeAll
    static void buildIsCached() throws Exception {
        // the compile itself is cached outside the clone: make sure it exists (a no-op after scripts/test.sh)
        Process p = withEnv(new ProcessBuilder(LAUNCHER.resolveSibling("build-native.sh").toString()), dir.resolve("warm"))
                .redirectErrorStream(true).redirectOutput(dir.resolve("warm.log").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), Files.readString(dir.resolve("warm.log")));
    }

    static ProcessBuilder withEnv(ProcessBuilder pb, Path nativeOut) {
        pb.environment().put("JLENS_NATIVE_OUT", nativeOut.toString());
        pb.environment().put("JLENS_CLASSPATH", System.getProperty("java.class.path"));
        pb.environment().remove("JLENS_NATIVE_DIR");
        pb.environment().remove("JLENS_JAVA_OPTS");
        return pb;
    }

    static List<Launch> launchAtOnce(Path nativeOut, String tag) throws Exception {
        List<Process> ps = new ArrayList<>();
        for (int i = 0; i < LAUNCHES; i++) {
            ProcessBuilder pb = withEnv(new ProcessBuilder(LAUNCHER.toString(), "natives"), nativeOut);
            pb.redirectOutput(dir.resolve(tag + i + ".out").toFile()).redirectError(dir.resolve(tag + i + ".err").toFile());
            ps.add(pb.start());
        }
        List<Launch> out = new ArrayList<>();
        for (int i = 0; i < LAUNCHES; i++) {
            Process p = ps.get(i);
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                ps.forEach(Process::destroyForcibly);
                fail("launch " + i + " did not finish in 10 minutes");
            }
            out.add(new Launch(p.exitValue(), Files.readString(dir.resolve(tag + i + ".out"), StandardCharsets.UTF_8),
                    Files.readString(dir.resolve(tag + i + ".err"), StandardCharsets.UTF_8)));
        }
        return out;
    }

    @Test
    void sixLaunchesAtOnceOnAMissingInstallAllSucceedAndTheNextSixReinstallNothing() throws Exception {
        Path lib = dir.resolve("lib");
        long t0 = System.nanoTime();
        List<Launch> first = launchAtOnce(lib, "first");
        double firstS = (System.nanoTime() - t0) / 1e9;
        for (int i = 0; i < LAUNCHES; i++) {
            Launch l = first.get(i);
            assertEquals(0, l.code(), "launch " + i + "; stderr:\n" + l.stderr());
            assertTrue(l.stdout().contains("folder        " + lib.toRealPath()) || l.stdout().contains("folder        " + lib), l.stdout());
        }
        assertInstallComplete(lib);
        FileTime listTime = Files.getLastModifiedTime(lib.resolve("natives.list"));
        String listText = Files.readString(lib.resolve("natives.list"));

        t0 = System.nanoTime();
        List<Launch> second = launchAtOnce(lib, "second");
        double secondS = (System.nanoTime() - t0) / 1e9;
        for (int i = 0; i < LAUNCHES; i++) {
            assertEquals(0, second.get(i).code(), "launch " + i + "; stderr:\n" + second.get(i).stderr());
            assertFalse(second.get(i).stderr().contains("building the pinned llama.cpp"), "an installed folder is not rebuilt: " + second.get(i).stderr());
        }
        assertEquals(listTime, Files.getLastModifiedTime(lib.resolve("natives.list")), "nothing was reinstalled");
        assertEquals(listText, Files.readString(lib.resolve("natives.list")));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".lib.new.")).toList(), "no temporary install folder left");
        }
        System.out.printf("launcher: %d concurrent launches on a missing install %.1f s, %d on an installed one %.1f s%n",
                LAUNCHES, firstS, LAUNCHES, secondS);
    }

    /** Every library natives.list names is there with the SHA-256 it lists. */
    static void assertInstallComplete(Path lib) throws IOException, java.security.NoSuchAlgorithmException {
        List<String> lines = Files.readAllLines(lib.resolve("natives.list"));
        assertFalse(lines.isEmpty());
        assertTrue(lines.stream().anyMatch(l -> l.endsWith("  libjlens-llama.so.0")), lines.toString());
        for (String line : lines) {
            String[] f = line.split("\\s+");
            byte[] bytes = Files.readAllBytes(lib.resolve(f[1]));
            assertEquals(f[0], HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)), f[1]);
        }
    }
}
