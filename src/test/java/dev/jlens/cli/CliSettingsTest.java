package dev.jlens.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 15: the experiment's settings are one record validated when built, with enums for the encoder and the
 * aggregate, so a bad value exits 2 before any file is read: no output folder, no cache folder (the model file is
 * hashed into it first), and the message names the option and the value.
 */
class CliSettingsTest {
    @TempDir Path tmp;

    private CliRunner.Run france(String... extra) throws Exception {
        Path model = tmp.resolve("model.gguf");
        if (!Files.exists(model)) Files.writeString(model, "not a GGUF file");
        String[] base = {"france", "--model", model.toString(), "--coarse-sae", tmp.resolve("coarse.npz").toString(), "--fine-sae",
                tmp.resolve("fine.npz").toString(), "--out", tmp.resolve("run").toString(), "--cache", tmp.resolve("cache").toString()};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return CliRunner.run(args);
    }

    @Test
    void aMisspelledEncoderExits2BeforeAnyFileIsRead() throws Exception {
        CliRunner.Run r = france("--encoder", "foo");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--encoder") && r.err().contains("foo") && r.err().contains("ggml-gpu"), r.err());
        assertFalse(Files.exists(tmp.resolve("run")), "no output folder");
        assertFalse(Files.exists(tmp.resolve("cache")), "the model was not hashed");
        assertFalse(r.err().contains("model.gguf"), "the model file was not read: " + r.err());
    }

    @Test
    void aBadAggregateOrAnchorCountExits2BeforeAnyFileIsRead() throws Exception {
        CliRunner.Run agg = france("--aggregate", "median");
        assertEquals(2, agg.code(), agg.err());
        assertTrue(agg.err().contains("--aggregate") && agg.err().contains("median"), agg.err());
        CliRunner.Run anchors = france("--anchors", "0");
        assertEquals(2, anchors.code(), anchors.err());
        assertTrue(anchors.err().contains("anchors must be >= 1, got 0"), anchors.err());
        assertFalse(Files.exists(tmp.resolve("run")), "no output folder");
        assertFalse(Files.exists(tmp.resolve("cache")), "the model was not hashed");
    }

    @Test
    void theSpellingsParseAndAGoodEncoderGetsAsFarAsTheModel() throws Exception {
        // the control: with valid settings the same command reads the model (hashing it into the cache folder) and
        // fails there, so the two tests above prove the settings were refused first
        CliRunner.Run r = france("--encoder", "GGML-GPU", "--aggregate", "Mean");
        assertEquals(2, r.code(), r.err());
        assertTrue(Files.isDirectory(tmp.resolve("cache")), "the model was hashed: " + r.err());
        assertFalse(r.err().contains("--encoder") || r.err().contains("--aggregate"), r.err());
    }
}
