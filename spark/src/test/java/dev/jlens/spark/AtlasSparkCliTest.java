package dev.jlens.spark;

import dev.jlens.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jlens atlas --spark local[2]} through the core's command line, which finds the Spark job reflectively: it
 * starts its own Spark session in this process, runs, stops it, and writes what the embedded command writes (plus
 * the Parquet tables).
 */
class AtlasSparkCliTest {
    @TempDir Path tmp;

    record Run(int code, String out, String err) {}

    static synchronized Run cli(String... args) {
        PrintStream o = System.out, e = System.err;
        ByteArrayOutputStream bo = new ByteArrayOutputStream(), be = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(bo, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(be, true, StandardCharsets.UTF_8));
            int code = Main.run(args);
            return new Run(code, bo.toString(StandardCharsets.UTF_8), be.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(o);
            System.setErr(e);
        }
    }

    @Test
    void theSparkOptionRunsTheToyJobInProcessAndWritesTheEmbeddedCommandsBytes() throws IOException {
        // the toy default (no --model/--sae/--corpus): both SAEs over the same activations, one folder each
        List<String> common = List.of("atlas", "--max-tokens", "240", "--batch-tokens", "128", "--shard-contexts", "4");
        Path emb = tmp.resolve("embedded"), sp = tmp.resolve("spark");
        Run e = cli(concat(common, "--out", emb.toString(), "--threads", "2"));
        assertEquals(0, e.code(), e.err());
        Run s = cli(concat(common, "--out", sp.toString(), "--spark", "local[2]", "--spark-partitions", "3"));
        assertEquals(0, s.code(), s.err());
        assertTrue(s.out().contains("atlas of 2 SAE(s)"), s.out());
        List<Path> folders;
        try (Stream<Path> l = Files.list(emb)) {
            folders = l.filter(p -> p.getFileName().toString().startsWith("sae-")).map(Path::getFileName).sorted().toList();
        }
        assertEquals(2, folders.size(), folders.toString());
        for (Path folder : folders) {
            for (String f : List.of("features.jsonl", "density.npy", "max.npy", "atlas.json")) {
                assertArrayEquals(Files.readAllBytes(emb.resolve(folder).resolve(f)), Files.readAllBytes(sp.resolve(folder).resolve(f)), folder + "/" + f);
            }
            try (Stream<Path> parts = Files.list(sp.resolve(folder).resolve("features.parquet"))) {
                assertEquals(1, parts.filter(p -> p.getFileName().toString().endsWith(".parquet")).count(), "one part file");
            }
            assertTrue(Files.isDirectory(sp.resolve(folder).resolve("examples.parquet")));
        }
    }

    @Test
    void aBadMasterIsBadInput() {
        Run r = cli("atlas", "--spark", "nonsense://x", "--max-tokens", "200");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("nonsense://x"), r.err());
    }

    private static String[] concat(List<String> a, String... more) {
        List<String> l = new ArrayList<>(a);
        l.addAll(List.of(more));
        return l.toArray(String[]::new);
    }
}
