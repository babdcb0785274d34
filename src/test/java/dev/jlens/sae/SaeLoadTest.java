package dev.jlens.sae;

import static org.junit.jupiter.api.Assertions.*;

import dev.jlens.formats.FormatException;
import dev.jlens.kernels.WeightFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaeLoadTest {
    @TempDir Path tmp;

    static float[] randomInputs(int nTok, int dIn, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[nTok * dIn];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    @Test
    void gemmaScopeNpzAndSaeLensDirRoundTripGiveTheSameEncodings() throws Exception {
        Path npz = tmp.resolve("layer_12/width_1k/params.npz");
        ToySae.builder(96, 700, 5).targetL0(20).neuronpediaId("gemma-2-2b/12-toy").writeGemmaScopeNpz(npz);
        float[] x = randomInputs(6, 96, 1);
        try (Sae a = Sae.loadGemmaScopeNpz(npz)) {
            SaeWriter.writeSaeLensDir(a, tmp.resolve("f32"), WeightFormat.F32);
            SaeWriter.writeSaeLensDir(a, tmp.resolve("bf16"), WeightFormat.BF16);
            try (Sae b = Sae.load(tmp.resolve("f32").toString());
                 Sae c = Sae.loadSaeLensDir(tmp.resolve("bf16"));
                 SaeEncoder ea = SaeEncoders.create(a, "vector", SaeFixtures.small());
                 SaeEncoder eb = SaeEncoders.create(b, "vector", SaeFixtures.small());
                 SaeEncoder ec = SaeEncoders.create(c, "vector", SaeFixtures.small())) {
                assertEquals(a.cfg(), b.cfg(), "config survives the cfg.json round trip");
                assertEquals(WeightFormat.BF16, c.wEnc().format());
                SparseCodes ca = ea.encode(x, 6), cb = eb.encode(x, 6), cc = ec.encode(x, 6);
                long inter = 0, union = 0;
                for (int t = 0; t < 6; t++) {
                    assertArrayEquals(ca.indices(t), cb.indices(t), "token " + t);
                    assertArrayEquals(ca.values(t), cb.values(t), "token " + t);
                    java.util.Set<Integer> p = new java.util.HashSet<>(), q = new java.util.HashSet<>();
                    for (int i : ca.indices(t)) p.add(i);
                    for (int i : cc.indices(t)) q.add(i);
                    union += p.size() + q.size();
                    p.retainAll(q);
                    inter += p.size();
                    union -= p.size();
                }
                double jaccard = (double) inter / union;
                System.out.printf("toy 96x700: bf16 SAELens dir vs f32 npz active-set Jaccard %.4f%n", jaccard);
                assertTrue(jaccard > 0.9, "bf16 copy keeps the active sets: " + jaccard);
            }
        }
    }

    @Test
    void cfgJsonRoundTripKeepsApplyBDecToInputFalseExplicit() throws Exception {
        SaeConfig cfg = SaeConfig.gemmaScope(2304, 16384, 12, "gemma-2-2b/12-gemmascope-res-16k");
        Path f = tmp.resolve("cfg.json");
        cfg.write(f);
        String text = Files.readString(f);
        assertTrue(text.matches("(?s).*\"apply_b_dec_to_input\"\\s*:\\s*false.*"), text);
        assertTrue(text.contains("\"neuronpedia_id\" : \"gemma-2-2b/12-gemmascope-res-16k\""), text);
        assertTrue(text.contains("\"hook_name\" : \"blocks.12.hook_resid_post\""), text);
        assertEquals(cfg, SaeConfig.read(f));
    }

    @Test
    void cfgWithoutApplyBDecToInputFollowsSaeLensDefaultTrueAndUnknownKeysAreIgnored() throws Exception {
        SaeConfig c = SaeConfig.parse("""
                {"d_in": 8, "d_sae": 16, "architecture": "jumprelu", "hook_name": "blocks.3.hook_resid_post",
                 "model_name": "gemma-2-2b", "some_future_key": [1, 2], "neuronpedia_id": "x/3-y"}""", Path.of("cfg.json"));
        assertTrue(c.applyBDecToInput());
        assertEquals(3, c.hookLayer(), "hook_layer parsed from hook_name");
        assertEquals("x/3-y", c.neuronpediaId());
    }

    @Test
    void unsupportedArchitectureIsRejectedNamingTheKeyAndTheSupportedOnes() {
        FormatException e = assertThrows(FormatException.class, () -> SaeConfig.parse("""
                {"d_in": 8, "d_sae": 16, "architecture": "gated", "hook_name": "blocks.3.hook_resid_post",
                 "hook_layer": 3, "model_name": "m", "apply_b_dec_to_input": false}""", Path.of("x/cfg.json")));
        assertEquals("architecture", e.field());
        assertTrue(e.getMessage().contains("gated") && e.getMessage().contains("topk"), e.getMessage());
    }

    @Test
    void wEncAndWDecShapeMismatchNamesWDecAndBothShapes() throws Exception {
        var m = SaeFixtures.handMade();
        m.put("W_dec", SaeFixtures.t("W_dec", new long[] {2, 3}, 1, 0, 0, 1, 0.6f, 0.8f));
        Path npz = SaeFixtures.write(tmp, "bad", m);
        FormatException e = assertThrows(FormatException.class, () -> Sae.loadGemmaScopeNpz(npz));
        assertEquals("W_dec", e.field());
        assertEquals(npz, e.file());
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
    }

    @Test
    void thresholdOfWrongLengthIsRejectedWithItsShape() throws Exception {
        var m = SaeFixtures.handMade();
        m.put("threshold", SaeFixtures.t("threshold", new long[] {4}, 1, 1, 1, 1));
        FormatException e = assertThrows(FormatException.class, () -> Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, "bad", m)));
        assertEquals("threshold", e.field());
        assertTrue(e.getMessage().contains("[4]") && e.getMessage().contains("d_sae=3"), e.getMessage());
    }

    @Test
    void missingMemberIsNamedAndThePresentOnesListed() throws Exception {
        var m = SaeFixtures.handMade();
        m.remove("b_dec");
        FormatException e = assertThrows(FormatException.class, () -> Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, "bad", m)));
        assertEquals("b_dec", e.field());
        assertTrue(e.getMessage().contains("W_enc"), e.getMessage());
    }

    @Test
    void nanWeightIsRejectedWithMemberAndIndex() throws Exception {
        var m = SaeFixtures.handMade();
        m.put("W_enc", SaeFixtures.t("W_enc", new long[] {2, 3}, 1, 0, 2, 0, Float.NaN, -1));
        FormatException e = assertThrows(FormatException.class, () -> Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, "nan", m)));
        assertEquals("W_enc", e.field());
        assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("[1, 1]"), e.getMessage());
        var m2 = SaeFixtures.handMade();
        m2.put("b_enc", SaeFixtures.t("b_enc", new long[] {3}, 0, Float.POSITIVE_INFINITY, 0));
        FormatException e2 = assertThrows(FormatException.class, () -> Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, "inf", m2)));
        assertEquals("b_enc", e2.field());
        assertTrue(e2.getMessage().contains("Infinity") && e2.getMessage().contains("index 1"), e2.getMessage());
    }

    @Test
    void dInDifferentFromTheModelsDModelIsAClearError() throws Exception {
        try (Sae sae = Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, "hand", SaeFixtures.handMade()))) {
            sae.validateFor(2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> sae.validateFor(2304));
            assertTrue(e.getMessage().contains("d_in=2") && e.getMessage().contains("2304"), e.getMessage());
        }
    }

    @Test
    void wrongSizedInputAndNonFiniteInputAreRejected() throws Exception {
        try (Sae sae = Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, "hand", SaeFixtures.handMade()));
             SaeEncoder enc = SaeEncoders.create(sae, "vector", SaeFixtures.small())) {
            assertThrows(IllegalArgumentException.class, () -> enc.encode(new float[3], 2));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> enc.encode(new float[] {0, 0, 1, Float.NaN}, 2));
            assertTrue(e.getMessage().contains("token 1") && e.getMessage().contains("index 1"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> SaeEncoders.create(sae, "cuda"));
        }
    }

    @Test
    void closedSaeRefusesAccessToItsUnmappedWeights() throws Exception {
        Sae sae = Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, "hand", SaeFixtures.handMade()));
        sae.close();
        assertThrows(IllegalStateException.class, sae::wEnc);
    }

    @Test
    void decoderRowNormsAreReportedAtLoad() throws Exception {
        try (Sae sae = Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, "hand", SaeFixtures.handMade()))) {
            // rows [1,0], [0,1], [0.6,0.8]: all unit norm
            assertEquals(1f, sae.decoderRowNorms().min(), 1e-6f);
            assertEquals(1f, sae.decoderRowNorms().max(), 1e-6f);
        }
    }

    @Test
    void fromPretrainedResolvesThroughTheRegistryAndMissingFilesPointToTheDownloadScript() throws Exception {
        Path models = tmp.resolve("models");
        Files.createDirectories(models);
        Files.writeString(models.resolve("registry.json"), """
                {"releases": {"jlens-toy": {"format": "gemma-scope-npz", "hook_layer": 12, "saes": {
                  "layer_12/width_700": {"path": "jlens-toy/layer_12/width_700/params.npz", "d_in": 32, "d_sae": 700,
                                         "neuronpedia_id": "gemma-2-2b/12-toy"},
                  "layer_12/absent": {"path": "jlens-toy/absent/params.npz", "d_in": 32, "d_sae": 700}}}}}""");
        ToySae.builder(32, 700, 9).writeGemmaScopeNpz(models.resolve("jlens-toy/layer_12/width_700/params.npz"));
        String old = System.getProperty("jlens.models.dir");
        System.setProperty("jlens.models.dir", models.toString());
        try {
            try (Sae sae = Sae.load("jlens-toy/layer_12/width_700")) {
                assertEquals(700, sae.dSae());
                assertEquals("gemma-2-2b/12-toy", sae.cfg().neuronpediaId());
            }
            FormatException e = assertThrows(FormatException.class, () -> Sae.fromPretrained("jlens-toy", "layer_12/absent"));
            assertTrue(e.getMessage().contains("scripts/download-models.sh"), e.getMessage());
            FormatException u = assertThrows(FormatException.class, () -> Sae.fromPretrained("nope", "x"));
            assertTrue(u.getMessage().contains("jlens-toy"), "lists known releases: " + u.getMessage());
        } finally {
            if (old == null) System.clearProperty("jlens.models.dir"); else System.setProperty("jlens.models.dir", old);
        }
    }

    @Test
    void projectRegistryListsBothGemmaScopeLayer12SaesWithoutPlaceholderHashes() throws Exception {
        Path models = Path.of(System.getProperty("jlens.project.dir", ".")).resolve("models");
        SaeRegistry reg = SaeRegistry.load(models);
        SaeRegistry.Entry e16 = reg.find("gemma-scope-2b-pt-res", "layer_12/width_16k/average_l0_82");
        SaeRegistry.Entry e262 = reg.find("gemma-scope-2b-pt-res", "layer_12/width_262k/average_l0_121");
        assertEquals(16384, e16.dSae());
        assertEquals(262144, e262.dSae());
        assertEquals("gemma-2-2b/12-gemmascope-res-262k", e262.neuronpediaId());
        assertEquals(models.resolve("gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82/params.npz"), e16.path());
        for (SaeRegistry.Entry e : new SaeRegistry.Entry[] {e16, e262})
            for (String h : e.sha256().values()) assertTrue(h.matches("[0-9a-f]{64}"), "sha256 is real or absent");
    }
}
