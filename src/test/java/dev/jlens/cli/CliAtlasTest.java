package dev.jlens.cli;

import dev.jlens.api.Atlas;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `jlens atlas` on bad input: exit 2 naming the file, line or option, before any work and with nothing written. */
class CliAtlasTest {
    @TempDir Path tmp;

    @Test
    void badCorpusLinesAreNamedOrSkippedAndCounted() throws Exception {
        Atlas.Toy toy = Atlas.toy(null);
        Path corpus = tmp.resolve("bad.txt");
        byte[] good = "The baker in Lyon pulls warm baguettes from the oven before dawn.\n".getBytes(StandardCharsets.UTF_8);
        byte[] bad = {'a', ' ', (byte) 0xC3, (byte) 0x28, '\n'}; // an invalid UTF-8 sequence on line 3
        try (var o = Files.newOutputStream(corpus)) {
            o.write(good);
            o.write(good);
            o.write(bad);
            o.write(good);
        }
        Path out = tmp.resolve("out");
        CliRunner.Run r = CliRunner.run("atlas", "--model", toy.model().toString(), "--sae", toy.saes().get(0), "--corpus", corpus.toString(),
                "--out", out.toString(), "--threads", "2");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(corpus.toString()) && r.err().contains("line 3"), r.err());
        assertFalse(Files.exists(out), "nothing written for a bad corpus");

        CliRunner.Run s = CliRunner.run("atlas", "--model", toy.model().toString(), "--sae", toy.saes().get(0), "--corpus", corpus.toString(),
                "--out", out.toString(), "--threads", "2", "--skip-bad");
        assertEquals(0, s.code(), s.err());
        String meta = Files.readString(out.resolve("atlas.json"));
        assertTrue(meta.contains("\"invalid_utf8\" : 1"), meta);
        assertTrue(s.out().contains("over 3 contexts"), s.out());

        // the folder exports to Neuronpedia's batch layout
        Path np = tmp.resolve("np");
        CliRunner.Run e = CliRunner.run("neuronpedia-export", "--atlas", out.toString(), "--out", np.toString());
        assertEquals(0, e.code(), e.err());
        String batch = Files.readString(np.resolve("batch-0.json"));
        assertTrue(batch.contains("\"activations\"") && batch.contains("\"pos_str\""), batch.substring(0, Math.min(400, batch.length())));
        CliRunner.Run missing = CliRunner.run("neuronpedia-export", "--atlas", tmp.resolve("nope").toString(), "--out", np.toString());
        assertEquals(2, missing.code(), missing.err());
    }

    @Test
    void badOptionsFailBeforeAnythingIsLoaded() {
        Path out = tmp.resolve("never");
        for (String[] args : new String[][] {
                {"--encoder", "foo"}, {"--context", "1"}, {"--top", "0"}, {"--batch-tokens", "100"},
                {"--format", "csv"}, {"--max-tokens", "-1"}, {"--threads", "-2"}}) {
            String[] full = new String[args.length + 9];
            String[] base = {"atlas", "--model", "missing.gguf", "--sae", "missing-sae", "--corpus", "missing.txt", "--out", out.toString()};
            System.arraycopy(base, 0, full, 0, base.length);
            System.arraycopy(args, 0, full, base.length, args.length);
            CliRunner.Run r = CliRunner.run(full);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().contains(args[0]), "the message names " + args[0] + ": " + r.err());
            assertFalse(Files.exists(out));
        }
        CliRunner.Run h = CliRunner.run("atlas", "--help");
        assertEquals(0, h.code());
        for (String opt : new String[] {"--corpus", "--sae", "--top", "--max-tokens", "--skip-bad", "--whole-files", "--text-field", "Default: 128"}) {
            assertTrue(h.out().contains(opt), "help mentions " + opt + ":\n" + h.out());
        }
    }
}
