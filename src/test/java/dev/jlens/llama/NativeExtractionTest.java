package dev.jlens.llama;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Extraction of the packaged libraries (the resources Maven copies from native/lib, the same ones the jar carries)
 * into a per-version cache folder: every listed file with its SHA-256, once, repaired when damaged, and safe when
 * several threads race on first use. PackagedJarExampleIT does the same from the real jar in a fresh process.
 */
class NativeExtractionTest {
    @TempDir Path root;

    static List<NativeLibrary.Packaged> packaged() throws IOException {
        try (InputStream in = NativeLibrary.class.getResourceAsStream(NativeLibrary.JAR_DIR + NativeLibrary.LIST)) {
            assumeTrue(in != null, "no packaged natives on the class path (scripts/build-native.sh, then Maven copies them)");
            return NativeLibrary.parseList(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    static String sha256(Path f) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    }

    List<Path> entries() throws IOException {
        try (Stream<Path> s = Files.list(root.resolve("natives"))) {
            return s.toList();
        }
    }

    @Test
    void extractsEveryListedFileOnceWithItsHashAndRepairsADamagedFolder() throws Exception {
        List<NativeLibrary.Packaged> files = packaged();
        assertTrue(files.stream().anyMatch(f -> f.name().equals("libjlens-llama.so.0")), files.toString());
        Path dir = NativeLibrary.extractFromJar(root);
        assertEquals(List.of(dir), entries(), "one folder, no temporary leftovers");
        assertTrue(dir.getFileName().toString().startsWith(dev.jlens.bindings.BindingsVersion.COMMIT.substring(0, 12) + "-"), dir.toString());
        for (NativeLibrary.Packaged f : files) assertEquals(f.sha256(), sha256(dir.resolve(f.name())), f.name());
        assertEquals(files.size(), Files.list(dir).count(), "only the listed files");

        // a second use takes the folder as it is
        Path llama = dir.resolve("libjlens-llama.so.0");
        long mtime = Files.getLastModifiedTime(llama).toMillis();
        Thread.sleep(20);
        assertEquals(dir, NativeLibrary.extractFromJar(root));
        assertEquals(mtime, Files.getLastModifiedTime(llama).toMillis(), "not written again");

        // a folder missing a file (deleted by hand) is replaced by a complete one
        String module = files.stream().map(NativeLibrary.Packaged::name).filter(n -> n.startsWith("libggml-cpu-") || n.equals("libjlens-ggml-cpu.so.0"))
                .findFirst().orElseThrow();
        Files.delete(dir.resolve(module));
        assertEquals(dir, NativeLibrary.extractFromJar(root));
        for (NativeLibrary.Packaged f : files) assertEquals(f.sha256(), sha256(dir.resolve(f.name())), f.name());
        assertEquals(List.of(dir), entries(), "the damaged folder is gone, no leftovers");
    }

    @Test
    void threadsRacingOnFirstUseAllGetTheSameCompleteFolder() throws Exception {
        List<NativeLibrary.Packaged> files = packaged();
        int n = 4;
        CyclicBarrier start = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Path>> got = new ArrayList<>();
            for (int i = 0; i < n; i++) got.add(pool.submit(() -> {
                start.await();
                return NativeLibrary.extractFromJar(root);
            }));
            Path first = got.get(0).get();
            for (Future<Path> f : got) assertEquals(first, f.get());
            assertEquals(List.of(first), entries(), "one folder, the losers' temporary folders removed");
            for (NativeLibrary.Packaged f : files) assertEquals(f.sha256(), sha256(first.resolve(f.name())), f.name());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anotherPlatformGetsAClearMessageInsteadOfADlopenError() {
        assertNull(NativeLibrary.unsupportedPlatform("Linux", "amd64"));
        assertNull(NativeLibrary.unsupportedPlatform("Linux", "x86_64"));
        for (String[] p : new String[][] {{"Linux", "aarch64"}, {"Mac OS X", "aarch64"}, {"Windows 11", "amd64"}}) {
            String m = NativeLibrary.unsupportedPlatform(p[0], p[1]);
            assertNotNull(m, p[0] + "/" + p[1]);
            assertTrue(m.contains("linux-x86_64 only") && m.contains(p[0] + "/" + p[1]) && m.contains("jlens.native.dir"), m);
        }
    }
}
