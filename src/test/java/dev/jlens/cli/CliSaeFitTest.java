package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.jlens.api.Toys;
import dev.jlens.formats.DType;
import dev.jlens.formats.GgufWriter;
import dev.jlens.formats.NpyWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `encode` and `france` refuse an SAE that does not belong to the capture point, with exit 2 naming both hooks,
 * and `encode` records the SAE's hook and model next to the captured ones in metrics.json (issue 16, points 3, 4).
 */
class CliSaeFitTest {
    @TempDir static Path dir;
    static Path model, acts;

    @BeforeAll
    static void files() throws Exception {
        model = dir.resolve("tiny.gguf");
        assertEquals(0, CliRunner.run("toy-model", "--kind", "tiny", "--out", model.toString()).code());
        // a capture folder of layer 12 of the tiny model (d_model 64), written as `jlens capture` writes one
        Path cap = dir.resolve("cap");
        Files.createDirectories(cap);
        float[] x = new float[6 * 64];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        acts = cap.resolve("activations.npy");
        NpyWriter.write(acts, DType.F32, new long[] {6, 64}, MemorySegment.ofArray(x));
        Files.writeString(cap.resolve("capture.json"), """
                {"format": "jlens-capture/2", "model": "%s", "architecture": "gemma2", "layer": 12, "hook_name": "blocks.12.hook_resid_post",
                 "n_embd": 64, "rows": 6, "prompts": 1, "bos_token_id": 2, "llama_cpp_commit": "x"}""".formatted(model.toString().replace("\\", "\\\\")));
    }

    static Path sae(String relative) throws Exception {
        Path npz = dir.resolve(relative).resolve("params.npz");
        if (!Files.exists(npz)) new Toys.RandomSae(64, 128, 3, 10, 12).writeGemmaScopeNpz(npz);
        return npz;
    }

    @Test
    void encodeRefusesAnSaeOfAnotherLayerWithExitTwoNamingBothHooks() throws Exception {
        CliRunner.Run r = CliRunner.run("encode", "--sae", sae("gs/layer_5/w").toString(), "--activations", acts.toString(),
                "--out", dir.resolve("e5").toString(), "--encoder", "scalar");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("blocks.5.hook_resid_post") && r.err().contains("blocks.12.hook_resid_post"), r.err());
        assertFalse(Files.exists(dir.resolve("e5/metrics.json")), "nothing written");
        CliRunner.Run h = CliRunner.run("encode", "--sae", sae("plain").toString(), "--activations", acts.toString(),
                "--out", dir.resolve("h5").toString(), "--hook-layer", "5");
        assertEquals(2, h.code(), "--hook-layer 5 against a layer-12 capture: " + h.err());
        assertTrue(h.err().contains("blocks.5.hook_resid_post") && h.err().contains("blocks.12.hook_resid_post"), h.err());
    }

    @Test
    void encodeRefusesAnSaeOfAnotherHookKind() throws Exception {
        Path mlp = sae("gemma-scope-2b-pt-mlp/layer_12/width_x");
        CliRunner.Run r = CliRunner.run("encode", "--sae", mlp.toString(), "--activations", acts.toString(), "--out", dir.resolve("m").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("blocks.12.hook_mlp_out") && r.err().contains("blocks.12.hook_resid_post"), r.err());
    }

    @Test
    void aPlainParamsNpzTakesTheCaptureLayerAndMetricsRecordHookAndModel() throws Exception {
        CliRunner.Run r = CliRunner.run("encode", "--sae", sae("plain").toString(), "--activations", acts.toString(),
                "--out", dir.resolve("p").toString(), "--encoder", "scalar");
        assertEquals(0, r.code(), r.err());
        String m = Files.readString(dir.resolve("p/metrics.json"));
        assertTrue(m.contains("\"sae_hook_name\" : \"blocks.12.hook_resid_post\""), m);
        assertTrue(m.contains("\"sae_hook_layer_from\" : \"capture.json\""), m);
        assertTrue(m.contains("\"capture_hook_name\" : \"blocks.12.hook_resid_post\""), m);
        assertTrue(m.contains("\"name\" : \"jlens toy gemma2\""), "the model's general.name: " + m);
        assertTrue(m.contains("\"model_match\" : \"UNKNOWN\""), "a plain npz names no model: " + m);
        assertTrue(m.contains("\"rows_excluded_as_bos\" : 0"), m);
        // the same SAE inside a Gemma Scope release folder says gemma-2-2b: recorded as a different model, not refused
        CliRunner.Run g = CliRunner.run("encode", "--sae", sae("gemma-scope-2b-pt-res/layer_12/width_x").toString(),
                "--activations", acts.toString(), "--out", dir.resolve("g").toString(), "--encoder", "scalar");
        assertEquals(0, g.code(), g.err());
        String gm = Files.readString(dir.resolve("g/metrics.json"));
        assertTrue(gm.contains("\"sae_model_name\" : \"gemma-2-2b\"") && gm.contains("\"model_match\" : \"DIFFERENT\"") && gm.contains("\"sae_hook_layer_from\" : \"sae\""), gm);
    }

    @Test
    void anInstructionTunedModelIsRecordedForAPretrainedSae() throws Exception {
        Path cap = dir.resolve("cap-it");
        Files.createDirectories(cap);
        Path it = cap.resolve("it.gguf");
        new GgufWriter().putString("general.architecture", "gemma2").putString("general.name", "Gemma 2 2b It")
                .putString("general.basename", "gemma-2").putString("general.size_label", "2B").putString("general.finetune", "it").write(it);
        Files.copy(acts, cap.resolve("activations.npy"));
        Files.writeString(cap.resolve("capture.json"), "{\"format\": \"jlens-capture/2\", \"model\": \"" + it.toString().replace("\\", "\\\\") + "\", \"layer\": 12}");
        CliRunner.Run r = CliRunner.run("encode", "--sae", sae("gemma-scope-2b-pt-res/layer_12/width_x").toString(),
                "--activations", cap.resolve("activations.npy").toString(), "--out", dir.resolve("it").toString(), "--encoder", "scalar");
        assertEquals(0, r.code(), "a warning, not a refusal: " + r.err());
        String m = Files.readString(dir.resolve("it/metrics.json"));
        assertTrue(m.contains("\"model_match\" : \"INSTRUCTION_TUNED_MODEL\"") && m.contains("\"finetune\" : \"it\""), m);
    }

    @Test
    void withoutCaptureJsonABareEncodeLeavesTheHookUnknownOrTakesHookLayer() throws Exception {
        Path bare = dir.resolve("bare/activations.npy");
        Files.createDirectories(bare.getParent());
        Files.copy(acts, bare);
        assertEquals(0, CliRunner.run("encode", "--sae", sae("plain").toString(), "--activations", bare.toString(), "--out", dir.resolve("b").toString()).code());
        String m = Files.readString(dir.resolve("b/metrics.json"));
        assertTrue(m.contains("\"sae_hook_name\" : null") && m.contains("\"sae_hook_layer_from\" : \"unknown\"") && m.contains("\"capture_hook_name\" : null"), m);
        assertEquals(0, CliRunner.run("encode", "--sae", sae("plain").toString(), "--activations", bare.toString(), "--out", dir.resolve("b3").toString(),
                "--hook-layer", "3").code());
        String m3 = Files.readString(dir.resolve("b3/metrics.json"));
        assertTrue(m3.contains("\"sae_hook_name\" : \"blocks.3.hook_resid_post\"") && m3.contains("\"sae_hook_layer_from\" : \"--hook-layer\""), m3);
    }

    @Test
    void franceRefusesSaesOfAnotherLayerBeforeCapturingWithExitTwoNamingBoth() throws Exception {
        Path coarse = sae("gs/layer_5/w"), fine = sae("gs/layer_5/w2");
        CliRunner.Run r = CliRunner.run("france", "--model", model.toString(), "--coarse-sae", coarse.toString(), "--fine-sae", fine.toString(),
                "--out", dir.resolve("f").toString(), "--cache", dir.resolve("fc").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("blocks.5.hook_resid_post") && r.err().contains("blocks.12.hook_resid_post"), r.err());
        try (var l = Files.list(dir.resolve("fc"))) {
            assertTrue(l.noneMatch(p -> p.getFileName().toString().startsWith("acts-")), "refused before any capture");
        } catch (java.nio.file.NoSuchFileException none) {
            // no cache folder at all: refused even earlier
        }
    }
}
