package dev.jlens.reliability;

import dev.jlens.formats.DType;
import dev.jlens.formats.NpyWriter;
import dev.jlens.isolated.JavaProcess;
import dev.jlens.util.LockHolderMain;
import dev.jlens.util.RunFolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The output folders of `jlens encode` and `jlens atlas` are {@link RunFolder}s (issue 17 points 6-7), through real
 * `jlens` child JVMs on the tiny toy of {@link RunFolderCompletenessTest}: a run into a folder another process holds
 * exits 2 naming it and writes nothing; a killed encode (SIGKILL while its outputs are staged) leaves neither codes.npz
 * nor metrics.json, and the next run removes its staging folder and writes both. `jlens slice --out` is one file written
 * atomically next to others: it is locked through {@link RunFolder.OutputFile} and a killed run's temporary is removed.
 */
class EncodeAtlasRunFolderTest {
    @TempDir static Path tmp;
    static Path corpus;

    @BeforeAll
    static void files() throws IOException {
        RunFolderCompletenessTest.dir = tmp;
        RunFolderCompletenessTest.files();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < 40; i++) b.append("The capital of France is Paris and a cat sat on the mat ").append(i).append(".\n");
        corpus = Files.writeString(tmp.resolve("corpus.txt"), b.toString());
    }

    record Run(int code, String err) {}

    static Process start(List<String> args) throws IOException {
        return JavaProcess.builder("dev.jlens.cli.Main", args).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.PIPE).start();
    }

    static Run jlens(List<String> args) throws Exception {
        Process p = start(args);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "jlens " + args + " finished");
        return new Run(p.exitValue(), err);
    }

    static List<String> names(Path out) throws IOException {
        try (Stream<Path> s = Files.list(out)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** A folder held by another process (LockHolderMain): {@code args} must exit 2 naming it and write nothing there. */
    static void assertRefusedWhileHeld(Path out, List<String> args) throws Exception {
        Process holder = JavaProcess.builder(LockHolderMain.class.getName(), List.of(out.toString())).start();
        try {
            assertEquals("LOCKED", new BufferedReader(new InputStreamReader(holder.getInputStream())).readLine());
            Run r = jlens(args);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(out.toString()) && r.err().contains("another jlens run"), r.err());
            // only the refused run's run.log, which says why
            assertEquals(List.of(RunFolder.LOCK_FILE, "run.log"), names(out), "no output written into the held folder");
            assertTrue(Files.readString(out.resolve("run.log")).contains("another jlens run"));
        } finally {
            holder.destroyForcibly();
            holder.waitFor();
        }
    }

    static Path activations(String name, int rows) throws IOException {
        float[] x = new float[rows * 64];
        Random rnd = new Random(rows);
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        Path f = Files.createDirectories(tmp.resolve(name)).resolve("activations.npy");
        NpyWriter.write(f, DType.F32, new long[] {rows, 64}, MemorySegment.ofArray(x));
        return f;
    }

    static List<String> encode(Path acts, Path out) {
        return List.of("encode", "--sae", RunFolderCompletenessTest.fine.toString(), "--activations", acts.toString(), "--out", out.toString(),
                "--encoder", "vector");
    }

    @Test
    void anEncodeIntoAHeldFolderExitsTwoNamingItAndAFreeOneGetsBothFiles() throws Exception {
        Path acts = activations("small", 300), out = tmp.resolve("enc");
        assertRefusedWhileHeld(out, encode(acts, out));
        Run r = jlens(encode(acts, out));
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(RunFolder.LOCK_FILE, "codes.npz", "metrics.json", "run.log"), names(out));
    }

    @Test
    void anAtlasIntoAHeldFolderExitsTwoNamingItAndAFreeOneIsComplete() throws Exception {
        Path out = tmp.resolve("atlas");
        List<String> args = List.of("atlas", "--model", RunFolderCompletenessTest.model.toString(), "--sae", RunFolderCompletenessTest.coarse.toString(),
                "--corpus", corpus.toString(), "--out", out.toString(), "--threads", "2");
        assertRefusedWhileHeld(out, args);
        Run r = jlens(args);
        assertEquals(0, r.code(), r.err());
        List<String> files = names(out);
        assertTrue(files.containsAll(List.of("atlas.json", "features.jsonl", "atlas.html", "atlas-data")), files.toString());
        assertTrue(files.stream().noneMatch(n -> n.startsWith(".staging-") || n.startsWith(".atlas-work")), "no staging or checkpoints left: " + files);
        // a second run into the finished folder replaces the browser's atlas-data/ folder (RunFolder moves the old one aside)
        Run again = jlens(args);
        assertEquals(0, again.code(), again.err());
        assertEquals(files, names(out));
    }

    @Test
    void aKilledEncodeLeavesNoPartialCodesOrMetricsAndTheNextRunCleansUp() throws Exception {
        Path acts = activations("big", 200_000);
        int killedMidWrite = 0;
        for (int attempt = 0; attempt < 4 && killedMidWrite == 0; attempt++) {
            Path out = tmp.resolve("enc-kill-" + attempt);
            Process p = JavaProcess.builder("dev.jlens.cli.Main", encode(acts, out)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            boolean killed = false;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (p.isAlive() && System.nanoTime() < end) {
                if (Files.isDirectory(out) && names(out).stream().anyMatch(n -> n.startsWith(".staging-"))) {
                    p.destroyForcibly(); // SIGKILL while codes.npz / metrics.json are written: no finally block runs
                    killed = true;
                    break;
                }
                Thread.sleep(1);
            }
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            if (!killed || Files.exists(out.resolve("metrics.json"))) continue; // too quick to catch, or killed after the last rename
            killedMidWrite++;
            List<String> left = names(out);
            assertFalse(left.contains("codes.npz") || left.contains("metrics.json"), "no partial output: " + left);
            assertTrue(left.stream().anyMatch(n -> n.startsWith(".staging-")), left.toString());
            Run r = jlens(encode(acts, out));
            assertEquals(0, r.code(), r.err());
            assertEquals(List.of(RunFolder.LOCK_FILE, "codes.npz", "metrics.json", "run.log"), names(out), "the staging folder removed");
        }
        assertEquals(1, killedMidWrite, "in 4 attempts no kill landed while the outputs were staged");
    }

    @Test
    void aSliceIntoAFileAnotherRunWritesExitsTwoNamingItAndTheNextRunRemovesStaleTemporaries() throws Exception {
        Path out = tmp.resolve("slices").resolve("tiny-3.gguf");
        List<String> args = List.of("slice", "--model", RunFolderCompletenessTest.model.toString(), "--through-layer", "3", "--out", out.toString());
        try (RunFolder.OutputFile held = RunFolder.OutputFile.lock(out)) { // this JVM holds it; the child JVM is another process
            Run r = jlens(args);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains(out.toString()) && r.err().contains("another jlens run"), r.err());
            assertFalse(Files.exists(out));
        }
        Path stale = Files.writeString(out.resolveSibling("." + out.getFileName() + ".123456.tmp"), "half a slice, left by a killed run");
        Path otherTmp = Files.writeString(out.resolveSibling(".other.gguf.1.tmp"), "not this file's");
        Run r = jlens(args);
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(".other.gguf.1.tmp", "tiny-3.gguf"), names(out.getParent()), "the stale temporary and the lock file are gone");
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(otherTmp), "another file's temporary is not this run's business");
    }
}
