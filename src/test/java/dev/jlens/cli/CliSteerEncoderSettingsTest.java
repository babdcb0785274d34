package dev.jlens.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 15: steering's settings are one record ({@code SteeringStudy.Settings}) validated when built, and the encoder
 * is an {@code EncoderKind} from the command line on, so {@code steer}, {@code encode} and {@code atlas} refuse a bad
 * value with exit 2 before any file is read: no output folder, no cache folder (the model is hashed into it first),
 * and the message names the value, not the files. Each command also has a control run with valid settings that gets
 * as far as the files, so the refusals are proven to come first.
 */
class CliSteerEncoderSettingsTest {
    @TempDir Path tmp;

    private static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private CliRunner.Run steer(String... extra) throws Exception {
        Path model = tmp.resolve("model.gguf");
        if (!Files.exists(model)) Files.writeString(model, "not a GGUF file");
        return CliRunner.run(concat(new String[] {"steer", "--model", model.toString(), "--coarse-sae", tmp.resolve("coarse.npz").toString(),
                "--fine-sae", tmp.resolve("fine.npz").toString(), "--out", tmp.resolve("run").toString(), "--cache", tmp.resolve("cache").toString()}, extra));
    }

    @Test
    void badSteeringSettingsExit2BeforeAnyFileIsRead() throws Exception {
        String[][] cases = {
                {"--strengths", "4,2"}, {"--neutral-prompts", "0"}, {"--top-p", "0"}, {"--temperature", "-1"}, {"--seeds", "-3"},
                {"--max-tokens", "0"}, {"--bootstrap", "0"}, {"--fluency-tolerance", "-0.5"}, {"--examples", "-1"}, {"--target-fine", "-2"},
                {"--ctx", "8"}};
        String[] messages = {
                "strengths must be strictly increasing, got [4.0, 2.0]", "prompts must be >= 1, got 0", "topP must be in (0, 1], got 0.0",
                "temperature must be >= 0, got -1.0", "seed must be in [0, 2^32), got -3", "maxTokens must be >= 1, got 0",
                "bootstrapResamples must be >= 1, got 0", "fluencyTolerance must be finite and >= 0, got -0.5",
                "examplesPerCondition must be >= 0, got -1", "targetFine must be >= 0, got -2", "context must be >= 16 tokens, got 8"};
        for (int i = 0; i < cases.length; i++) {
            CliRunner.Run r = steer(cases[i]);
            assertEquals(2, r.code(), String.join(" ", cases[i]) + ": " + r.err());
            assertTrue(r.err().contains(messages[i]), String.join(" ", cases[i]) + ": " + r.err());
            assertFalse(r.err().contains("model.gguf"), "the model file was not read: " + r.err());
            assertFalse(Files.exists(tmp.resolve("run")), "no output folder after " + String.join(" ", cases[i]));
            assertFalse(Files.exists(tmp.resolve("cache")), "the model was not hashed after " + String.join(" ", cases[i]));
        }
    }

    @Test
    void validSteeringSettingsGetAsFarAsTheModel() throws Exception {
        // the control: the same command with valid settings reads the model file and refuses it there (not a GGUF), so
        // the refusals above came before any file was read
        CliRunner.Run r = steer("--strengths", "0,2", "--neutral-prompts", "3");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("model.gguf") && r.err().contains("GGUF"), "the model file was read and refused: " + r.err());
    }

    private CliRunner.Run encode(String encoder) throws Exception {
        Path acts = tmp.resolve("activations.npy");
        if (!Files.exists(acts)) Files.writeString(acts, "not an npy file");
        return CliRunner.run("encode", "--sae", tmp.resolve("sae-dir/params.npz").toString(), "--activations", acts.toString(),
                "--out", tmp.resolve("codes").toString(), "--encoder", encoder);
    }

    @Test
    void encodeRefusesAMisspelledEncoderBeforeAnyFileIsRead() throws Exception {
        CliRunner.Run r = encode("foo");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--encoder") && r.err().contains("foo") && r.err().contains("ggml-gpu"), r.err());
        assertFalse(r.err().contains("params.npz") || r.err().contains("activations.npy"), "no input file was looked at: " + r.err());
        assertFalse(Files.exists(tmp.resolve("codes")), "no output folder");
        // the control: a valid spelling, any case, gets to the SAE and is refused there, naming it
        CliRunner.Run ok = encode("SCALAR");
        assertEquals(2, ok.code(), ok.err());
        assertTrue(ok.err().contains("params.npz"), "the SAE was looked at: " + ok.err());
        assertFalse(ok.err().contains("--encoder"), ok.err());
    }

    @Test
    void atlasRefusesAMisspelledOrGpuEncoderBeforeAnyFileIsRead() throws Exception {
        Path model = tmp.resolve("atlas-model.gguf");
        Files.writeString(model, "not a GGUF file");
        Path corpus = tmp.resolve("corpus.txt");
        Files.writeString(corpus, "one line\n");
        for (String bad : new String[] {"foo", "ggml-gpu"}) {
            CliRunner.Run r = CliRunner.run("atlas", "--model", model.toString(), "--sae", tmp.resolve("sae.npz").toString(), "--corpus", corpus.toString(),
                    "--out", tmp.resolve("atlas").toString(), "--encoder", bad);
            assertEquals(2, r.code(), bad + ": " + r.err());
            assertTrue(r.err().contains("--encoder") && r.err().contains(bad), bad + ": " + r.err());
            assertFalse(r.err().contains("atlas-model.gguf"), "the model file was not read: " + r.err());
            assertFalse(Files.exists(tmp.resolve("atlas")), "no output folder after --encoder " + bad);
        }
        // the control: a valid encoder gets to the files and is refused there
        CliRunner.Run ok = CliRunner.run("atlas", "--model", model.toString(), "--sae", tmp.resolve("sae.npz").toString(), "--corpus", corpus.toString(),
                "--out", tmp.resolve("atlas").toString(), "--encoder", "Scalar");
        assertEquals(2, ok.code(), ok.err());
        assertFalse(ok.err().contains("--encoder"), ok.err());
        assertTrue(ok.err().contains("atlas-model.gguf") || ok.err().contains("sae.npz"), "a file was looked at: " + ok.err());
    }
}
