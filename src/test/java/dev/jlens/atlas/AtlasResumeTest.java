package dev.jlens.atlas;

import dev.jlens.api.Atlas;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kill -9 of a real `jlens atlas` process in the middle of its scan, then the same run again: it resumes from
 * the checkpointed shards and writes the same bytes as a run that was never interrupted.
 */
class AtlasResumeTest {
    @TempDir Path tmp;

    private static final long MAX_TOKENS = 4000;

    static Atlas.Options options() {
        return Atlas.Options.defaults().withBatching(512, 8).withMaxTokens(MAX_TOKENS).withThreads(2);
    }

    @Test
    void killMinus9ThenResumeIsByteIdentical() throws Exception {
        Atlas.Toy toy = Atlas.toy(null);
        String sae = toy.saes().get(0);
        Path ref = tmp.resolve("ref");
        Atlas.Summary whole = Atlas.run(toy.model(), List.of(sae), toy.corpus().toString(), ref, options(), null);
        assertTrue(whole.shardsComputed() >= 6, "enough shards to interrupt: " + whole.shardsComputed());

        for (int killAfter : new int[] {2, 5}) {
            Path out = tmp.resolve("killed-" + killAfter);
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector",
                    "-cp", System.getProperty("java.class.path")));
            for (String p : List.of("jlens.native.dir", "jlens.project.dir", "jlens.build.dir")) {
                if (System.getProperty(p) != null) cmd.add("-D" + p + "=" + System.getProperty(p));
            }
            cmd.addAll(List.of("dev.jlens.cli.Main", "atlas", "--model", toy.model().toString(), "--sae", sae,
                    "--corpus", toy.corpus().toString(), "--out", out.toString(), "--batch-tokens", "512", "--shard-contexts", "8",
                    "--max-tokens", Long.toString(MAX_TOKENS), "--threads", "2"));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("child-" + killAfter + ".log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (shards(out) < killAfter && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(20);
            assertTrue(p.isAlive(), "the child finished before it could be killed: " + Files.readString(tmp.resolve("child-" + killAfter + ".log")));
            p.destroyForcibly(); // SIGKILL
            p.waitFor(30, TimeUnit.SECONDS);
            int left = shards(out);
            assertTrue(left >= killAfter, "checkpoints left behind: " + left);
            assertFalse(Files.exists(out.resolve("features.jsonl")), "no output from a killed run");

            if (killAfter == 5) {
                // a damaged spill: that shard's windows come from decoding its batches again, with the same result
                try (Stream<Path> w = Files.walk(out.resolve(".atlas-work"))) {
                    Path codes = w.filter(f -> f.getFileName().toString().equals("codes-000001.bin")).findFirst().orElseThrow();
                    byte[] b = Files.readAllBytes(codes);
                    b[b.length / 2] ^= 0x40;
                    Files.write(codes, b);
                }
            }
            Atlas.Summary resumed = Atlas.run(toy.model(), List.of(sae), toy.corpus().toString(), out, options(), null);
            assertTrue(resumed.shardsReused() >= killAfter, "resumed " + resumed.shardsReused() + " shards");
            assertEquals(whole.shardsComputed(), resumed.shardsReused() + resumed.shardsComputed());
            for (String f : List.of("features.jsonl", "atlas.json", "density.npy", "max.npy")) {
                byte[] a = Files.readAllBytes(ref.resolve(f)), b = Files.readAllBytes(out.resolve(f));
                if (f.equals("atlas.json")) {
                    // the output folder's own path differs; everything else must not
                    a = Files.readString(ref.resolve(f)).replace(ref.toString(), "OUT").getBytes();
                    b = Files.readString(out.resolve(f)).replace(out.toString(), "OUT").getBytes();
                }
                assertArrayEquals(a, b, f + " after kill -9 at shard " + killAfter);
            }
        }
    }

    private static int shards(Path out) throws IOException {
        Path work = out.resolve(".atlas-work");
        if (!Files.isDirectory(work)) return 0;
        try (Stream<Path> s = Files.walk(work)) {
            return (int) s.filter(f -> f.getFileName().toString().matches("shard-\\d+\\.bin")).count();
        }
    }
}
