package dev.jlens.sae;

import static org.junit.jupiter.api.Assertions.*;

import dev.jlens.formats.FormatException;
import dev.jlens.formats.GgufWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whether an SAE belongs to the capture point and the model (issue 16, point 3), and how a string finds its SAE
 * (point 8: registry ids before same-named folders, recorded SHA-256 checked at load).
 */
class SaeFitTest {
    @TempDir Path tmp;
    private String oldModels, oldCache;
    private boolean saved;

    @AfterEach
    void restore() {
        if (!saved) return;
        if (oldModels == null) System.clearProperty("jlens.models.dir"); else System.setProperty("jlens.models.dir", oldModels);
        if (oldCache == null) System.clearProperty("jlens.cache.dir"); else System.setProperty("jlens.cache.dir", oldCache);
    }

    static SaeConfig hook(String hookName) {
        return SaeConfig.gemmaScope(8, 16, 0, null).withHook(hookName, Integer.parseInt(hookName.split("\\.")[1]));
    }

    @Test
    void anSaeOfAnotherLayerOrHookIsRefusedNamingBothHooks() {
        SaeFit.requireCapturePoint(hook("blocks.12.hook_resid_post"), "s", 12);
        SaeFit.requireCapturePoint(hook("blocks.13.hook_resid_pre"), "s", 12); // the next block's input: the same tensor
        SaeFit.requireCapturePoint(SaeConfig.gemmaScope(8, 16, 0, null).withHook(null, -1), "s", 12); // unknown: nothing to refuse
        for (String h : List.of("blocks.5.hook_resid_post", "blocks.12.hook_resid_pre", "blocks.12.hook_mlp_out", "blocks.12.attn.hook_z",
                "blocks.12.hook_resid_mid", "blocks.11.hook_resid_post")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SaeFit.requireCapturePoint(hook(h), "my-sae", 12), h);
            assertTrue(e.getMessage().contains(h) && e.getMessage().contains("blocks.12.hook_resid_post") && e.getMessage().contains("my-sae"), e.getMessage());
        }
        assertEquals(-1, SaeFit.residPostLayer("blocks.0.hook_resid_pre"), "the embeddings are no block's output");
        assertEquals(4, SaeFit.residPostLayer("blocks.5.hook_resid_pre"));
    }

    static Path gguf(Path file, String name, String basename, String size, String finetune) throws IOException {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "gemma2");
        if (name != null) w.putString("general.name", name);
        if (basename != null) w.putString("general.basename", basename);
        if (size != null) w.putString("general.size_label", size);
        if (finetune != null) w.putString("general.finetune", finetune);
        w.write(file);
        return file;
    }

    @Test
    void modelNameIsComparedWithTheGgufsGeneralKeysAndAnInstructionTunedModelWarns() throws IOException {
        SaeConfig pt = SaeConfig.gemmaScope(2304, 16384, 12, null);
        ModelIdentity it = ModelIdentity.read(gguf(tmp.resolve("it.gguf"), "Gemma 2 2b It", "gemma-2", "2B", "it"));
        assertEquals("gemma-2-2b-it", it.id());
        assertTrue(it.instructionTuned());
        SaeFit.ModelCheck c = SaeFit.checkModel(pt, "s", it);
        assertEquals(SaeFit.ModelMatch.INSTRUCTION_TUNED_MODEL, c.match());
        assertTrue(c.message().contains("\"it\"") && c.message().contains("gemma-2-2b"), c.message());
        assertEquals(SaeFit.ModelMatch.MATCH, SaeFit.checkModel(pt, "s", ModelIdentity.read(gguf(tmp.resolve("pt.gguf"), "Gemma 2 2b", "gemma-2", "2B", null))).match());
        assertEquals(SaeFit.ModelMatch.MATCH, SaeFit.checkModel(pt, "s", ModelIdentity.read(gguf(tmp.resolve("n.gguf"), "gemma_2_2b", null, null, null))).match(),
                "general.name alone, normalised");
        assertEquals(SaeFit.ModelMatch.MATCH, SaeFit.checkModel(pt.withModelName("google/gemma-2-2b-it"), "s", it).match());
        assertEquals(SaeFit.ModelMatch.DIFFERENT, SaeFit.checkModel(pt, "s", ModelIdentity.read(gguf(tmp.resolve("9b.gguf"), null, "gemma-2", "9B", null))).match());
        assertEquals(SaeFit.ModelMatch.UNKNOWN, SaeFit.checkModel(pt, "s", ModelIdentity.read(gguf(tmp.resolve("none.gguf"), null, null, null, null))).match());
        assertEquals(SaeFit.ModelMatch.UNKNOWN, SaeFit.checkModel(pt.withModelName(null), "s", it).match());
    }

    @Test
    void aBareParamsNpzLoadsWithItsHookUnknownOrTheGivenLayer() throws IOException {
        Path npz = tmp.resolve("plain/params.npz");
        ToySae.builder(8, 32, 1).writeGemmaScopeNpz(npz);
        try (Sae s = Sae.load(npz.toString())) {
            assertFalse(s.cfg().hookKnown(), "no layer_N folder: the layer is unknown");
            assertEquals(-1, s.cfg().hookLayer());
            assertNull(s.cfg().modelName(), "no release folder: the model is unknown");
        }
        try (Sae s = Sae.load(npz.toString(), 7)) {
            assertEquals("blocks.7.hook_resid_post", s.cfg().hookName());
        }
        Path mlp = tmp.resolve("gemma-scope-2b-pt-mlp/layer_12/width_16k/average_l0_1/params.npz");
        ToySae.builder(8, 32, 1).writeGemmaScopeNpz(mlp);
        SaeConfig c = Sae.config(mlp.toString(), 3);
        assertEquals("blocks.12.hook_mlp_out", c.hookName(), "as SAELens' Gemma Scope loader: mlp release, layer_12 folder (the hint loses)");
        assertThrows(IllegalArgumentException.class, () -> SaeFit.requireCapturePoint(c, mlp.toString(), 12));
        try (Sae s = Sae.load(tmp.resolve("gemma-scope-2b-pt-mlp/layer_12/width_16k/average_l0_1").toString())) {
            assertEquals(c, s.cfg(), "a folder holding params.npz loads it, with the same config as Sae.config");
        }
        assertEquals("gemma-2-9b-it", SaeLoader.describe(Path.of("/c/models--google--gemma-scope-9b-it-res/snapshots/abc/layer_20/w/params.npz")).modelName());
    }

    /** A models dir whose registry has release "rel" with sae "a/b" (params.npz under rel/a/b), sha256 as given. */
    Path registry(String sha256) throws IOException {
        Path models = tmp.resolve("models");
        Path npz = models.resolve("rel/a/b/params.npz");
        ToySae.builder(8, 32, 3).writeGemmaScopeNpz(npz);
        Files.writeString(models.resolve("registry.json"), """
                {"releases": {"rel": {"format": "gemma-scope-npz", "model_name": "jlens-toy-gemma2", "hook_layer": 4,
                  "repo_id": "x/rel", "revision": null,
                  "saes": {"a/b": {"path": "rel/a/b/params.npz", "d_in": 8, "d_sae": 32%s}}}}}""".formatted(
                sha256 == null ? "" : ", \"sha256\": \"" + sha256 + "\""));
        if (!saved) {
            oldModels = System.getProperty("jlens.models.dir");
            oldCache = System.getProperty("jlens.cache.dir");
            saved = true;
        }
        System.setProperty("jlens.models.dir", models.toString());
        System.setProperty("jlens.cache.dir", tmp.resolve("cache").toString());
        return npz;
    }

    @Test
    void aRegistryIdWinsOverASameNamedRelativeFolderAndDotSlashMeansTheFolder() throws IOException {
        registry(null);
        try (Sae s = Sae.load("rel/a/b")) {
            assertEquals("blocks.4.hook_resid_post", s.cfg().hookName(), "registry hook_layer 4");
            assertEquals("jlens-toy-gemma2", s.cfg().modelName(), "registry model_name");
        }
        FormatException unknown = assertThrows(FormatException.class, () -> Sae.load("rel/zzz"));
        assertTrue(unknown.getMessage().contains("./rel/zzz") && unknown.getMessage().contains("a/b"), unknown.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> Sae.load("nope/x"));
        assertTrue(none.getMessage().contains("registry.json"), none.getMessage());
        Path folder = tmp.resolve("models/rel/a/b");
        try (Sae s = Sae.load(folder.toString())) {
            assertFalse(s.cfg().hookKnown(), "as a path the same file is a bare params.npz");
        }
        // "src/main" is a folder relative to the working directory (the project) and, here, also a registry id
        Assumptions.assumeTrue(Files.isDirectory(Path.of("src/main")), "the tests run in the project folder");
        Path models = tmp.resolve("models");
        Files.writeString(models.resolve("registry.json"), """
                {"releases": {"src": {"format": "gemma-scope-npz", "hook_layer": 4,
                  "saes": {"main": {"path": "rel/a/b/params.npz", "d_in": 8, "d_sae": 32}}}}}""");
        try (Sae s = Sae.load("src/main")) {
            assertEquals(32, s.dSae(), "the registry id, not the relative folder src/main");
        }
        FormatException dot = assertThrows(FormatException.class, () -> Sae.load("./src/main"));
        assertTrue(dot.getMessage().contains("neither a SAELens directory"), "./ means the folder: " + dot.getMessage());
    }

    @Test
    void aRecordedSha256IsCheckedAtLoadAndADamagedFileRefused() throws Exception {
        Path npz = registry(null);
        String good = SaeRegistry.sha256Remembered(npz);
        registry(good);
        try (Sae s = Sae.load("rel/a/b")) {
            assertEquals(32, s.dSae());
        }
        registry("0".repeat(64));
        FormatException bad = assertThrows(FormatException.class, () -> Sae.load("rel/a/b"));
        assertEquals("sha256", bad.field());
        assertTrue(bad.getMessage().contains(good) && bad.getMessage().contains("0".repeat(64)), bad.getMessage());
        registry(good);
        try (Sae s = Sae.load("rel/a/b")) {
            assertEquals(32, s.dSae(), "verified before: remembered under the cache folder");
        }
        assertTrue(Files.list(tmp.resolve("cache/verified")).findAny().isPresent());
        Files.write(npz, new byte[] {1}, java.nio.file.StandardOpenOption.APPEND); // damaged after its check
        FormatException damaged = assertThrows(FormatException.class, () -> Sae.load("rel/a/b"));
        assertEquals("sha256", damaged.field(), "a changed file is hashed again: " + damaged.getMessage());
        registry("not-a-digest");
        FormatException malformed = assertThrows(FormatException.class, () -> Sae.load("rel/a/b"));
        assertTrue(malformed.getMessage().contains("64 lower-case hex"), malformed.getMessage());
    }

    @Test
    void projectRegistryPinsNoBranchAndRecordsOnlyRealDigests() throws Exception {
        Path models = Path.of(System.getProperty("jlens.project.dir", ".")).resolve("models");
        SaeRegistry reg = SaeRegistry.load(models);
        String text = Files.readString(models.resolve("registry.json"));
        assertFalse(text.contains("resolve/main"), "no URL follows a moving branch");
        var releases = reg.json().path("releases").fieldNames();
        while (releases.hasNext()) {
            String r = releases.next();
            var rel = reg.json().path("releases").path(r);
            if (rel.path("generated").asBoolean(false)) continue;
            assertTrue(rel.hasNonNull("repo_id"), r + ": a downloaded release names its hub repository");
            String rev = reg.revision(r); // null until pinned; a value must be a 40-hex commit
            assertTrue(rev == null || rev.matches("[0-9a-f]{40}"), r);
            var saes = rel.path("saes").fieldNames();
            while (saes.hasNext()) {
                SaeRegistry.Entry e = reg.find(r, saes.next());
                for (String h : e.sha256().values()) assertTrue(h.matches("[0-9a-f]{64}"), e.saeId());
                assertTrue(rev == null || !e.sha256().isEmpty(), e.saeId() + ": a pinned release records the digest of every file");
            }
        }
    }
}
