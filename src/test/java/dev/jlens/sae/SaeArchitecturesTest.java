package dev.jlens.sae;

import static org.junit.jupiter.api.Assertions.*;

import dev.jlens.formats.DType;
import dev.jlens.formats.FormatException;
import dev.jlens.formats.NpzWriter;
import dev.jlens.formats.Safetensors;
import dev.jlens.formats.Tensor;
import dev.jlens.kernels.WeightFormat;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * SAELens compatibility without Python (issue 16, points 4 and 5): Fortran-order and {@code w_*} npz files, SAELens
 * "standard" and "topk" directories with SAELens 6 cfg.json (torch dtypes, metadata block), JumpReLU thresholds
 * <= 0; every case through the real loaders and both Java encoders (scalar reference and Vector API), against the
 * f64 reference of SAELens' formulas ({@link SaeReference}).
 */
class SaeArchitecturesTest {
    @TempDir Path tmp;

    static MemorySegment seg(float[] v) { return MemorySegment.ofArray(v.clone()); }

    /** A Gemma Scope params.npz of {@code w}: C order with W_* keys, or Fortran order (np.savez of W.T) with w_* keys. */
    static Path writeNpz(Path npz, SaeReference.Weights w, boolean fortran) throws IOException {
        Map<String, NpzWriter.Member> m = new LinkedHashMap<>();
        if (fortran) {
            // a Fortran [d_in, d_sae] array is stored as the C-order [d_sae, d_in] bytes: W_enc^T
            m.put("w_enc", new NpzWriter.Member("<f4", new long[] {w.dIn(), w.dSae()}, seg(w.wEncT()), true));
            m.put("w_dec", new NpzWriter.Member("<f4", new long[] {w.dSae(), w.dIn()}, seg(w.wDecT()), true));
        } else {
            m.put("W_enc", new NpzWriter.Member("<f4", new long[] {w.dIn(), w.dSae()}, seg(w.wEnc())));
            m.put("W_dec", new NpzWriter.Member("<f4", new long[] {w.dSae(), w.dIn()}, seg(w.wDec())));
        }
        m.put("b_enc", NpzWriter.Member.floats(w.bEnc()));
        m.put("b_dec", NpzWriter.Member.floats(w.bDec()));
        if (w.thr() != null) m.put("threshold", NpzWriter.Member.floats(w.thr()));
        NpzWriter.writeMembers(npz, m);
        return npz;
    }

    /** A SAELens 6 directory as SAE.save_model writes it after SAE.to(torch.float32): dtype "torch.float32", metadata block. */
    static Path writeSaeLensDir(Path dir, SaeReference.Weights w, String architecture, Integer k, String dtype) throws IOException {
        Files.createDirectories(dir);
        List<Tensor> t = new ArrayList<>(List.of(
                new Tensor("W_enc", DType.F32, new long[] {w.dIn(), w.dSae()}, seg(w.wEnc())),
                new Tensor("W_dec", DType.F32, new long[] {w.dSae(), w.dIn()}, seg(w.wDec())),
                new Tensor("b_enc", DType.F32, new long[] {w.dSae()}, seg(w.bEnc())),
                new Tensor("b_dec", DType.F32, new long[] {w.dIn()}, seg(w.bDec()))));
        if (w.thr() != null) t.add(new Tensor("threshold", DType.F32, new long[] {w.dSae()}, seg(w.thr())));
        Safetensors.write(dir.resolve("sae_weights.safetensors"), t, Map.of("format", "pt"));
        Files.writeString(dir.resolve("cfg.json"), """
                {"architecture": "%s", "d_in": %d, "d_sae": %d, %s"dtype": "%s", "device": "cpu",
                 "apply_b_dec_to_input": true, "normalize_activations": "none", "reshape_activations": "none",
                 "metadata": {"sae_lens_version": "6.5.1", "model_name": "gemma-2-2b", "hook_name": "blocks.12.hook_resid_post",
                              "hook_head_index": null, "context_size": 1024, "prepend_bos": true,
                              "neuronpedia_id": "gemma-2-2b/12-test"}}
                """.formatted(architecture, w.dIn(), w.dSae(), k == null ? "" : "\"k\": " + k + ", \"rescale_acts_by_decoder_norm\": false, ", dtype));
        return dir;
    }

    @ParameterizedTest
    @CsvSource({"1,1,3", "7,17,5", "13,207,4", "64,1031,9", "33,513,2"})
    void fortranOrderWEncWithGemmaScopeKeysEncodesBitIdenticallyToTheCOrderFile(int dIn, int dSae, int n) throws IOException {
        SaeReference.Weights w = SaeReference.random(dIn, dSae, 11L * dIn + dSae, true, 0.1);
        float[] x = SaeReference.inputs(n, dIn, 5);
        Path c = writeNpz(tmp.resolve("c/layer_12/w/params.npz"), w, false);
        Path f = writeNpz(tmp.resolve("gemma-scope-2b-pt-res/layer_12/w/params.npz"), w, true);
        try (Sae sc = Sae.loadGemmaScopeNpz(c); Sae sf = Sae.loadGemmaScopeNpz(f)) {
            assertFalse(sc.wEncTransposed());
            assertTrue(sf.wEncTransposed(), "a Fortran W_enc is read in place as W_enc^T");
            assertEquals(List.of(dSae, dIn), List.of(sf.wEnc().rows(), sf.wEnc().cols()));
            assertEquals("gemma-2-2b", sf.cfg().modelName(), "from the gemma-scope-2b-pt-res folder");
            assertEquals("blocks.12.hook_resid_post", sf.cfg().hookName());
            for (int feature : new int[] {0, dSae / 2, dSae - 1}) {
                assertArrayEquals(sc.decoderRow(feature), sf.decoderRow(feature), "Fortran W_dec row " + feature);
                for (int k = 0; k < dIn; k++) assertEquals(sc.wEnc(k, feature), sf.wEnc(k, feature));
            }
            double[][][] ref = SaeReference.pre(w, x, n, false);
            for (String kind : new String[] {"scalar", "vector"}) {
                EncoderOptions o = new EncoderOptions(2, 64, 4); // several tiles and token blocks, a partial last tile
                try (SaeEncoder ec = SaeEncoders.create(sc, kind, o); SaeEncoder ef = SaeEncoders.create(sf, kind, o)) {
                    SparseCodes a = ec.encode(x, n), b = ef.encode(x, n);
                    SaeReference.assertSameCodes(a, b, kind + " C vs Fortran");
                    int[] s = SaeReference.compare(b, ref[0], ref[1], "jumprelu", w.thr(), 0, null);
                    assertTrue(s[0] > 0.9 * n * dSae, kind + ": " + s[0] + " decisions compared, " + s[1] + " ties");
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"standard,0,13,207,5", "topk,7,13,207,5", "topk,1,7,17,3", "topk,40,64,1031,9", "standard,0,1,1,2"})
    void saeLensStandardAndTopkDirsEncodeAsSaeLensComputesThem(String arch, int k, int dIn, int dSae, int n) throws IOException {
        SaeReference.Weights w = SaeReference.random(dIn, dSae, 3L * dIn + dSae, false, 0);
        float[] x = SaeReference.inputs(n, dIn, 9);
        Path dir = writeSaeLensDir(tmp.resolve(arch + k), w, arch, "topk".equals(arch) ? k : null, "torch.float32");
        double[][][] ref = SaeReference.pre(w, x, n, true);
        try (Sae sae = Sae.load(dir.toString())) {
            assertEquals(arch, sae.cfg().architecture());
            assertEquals("float32", sae.cfg().dtype(), "torch.float32 read as float32");
            assertEquals(1024, sae.cfg().contextSize(), "context_size from the metadata block");
            assertEquals("gemma-2-2b/12-test", sae.cfg().neuronpediaId());
            assertFalse(sae.hasThreshold());
            List<SparseCodes> all = new ArrayList<>();
            for (String kind : new String[] {"scalar", "vector"}) {
                try (SaeEncoder e = SaeEncoders.create(sae, kind, new EncoderOptions(2, 64, 4))) {
                    SparseCodes c = e.encode(x, n);
                    all.add(c);
                    int[] s = SaeReference.compare(c, ref[0], ref[1], arch, null, k, null);
                    System.out.printf("%s k=%d %dx%d %s: %d decisions compared, %d ties%n", arch, k, dIn, dSae, kind, s[0], s[1]);
                    assertTrue(s[0] > 0.9 * n * dSae, kind + ": only " + s[0] + " decisions compared");
                }
            }
            if ("topk".equals(arch))
                for (int t = 0; t < n; t++) assertTrue(all.get(0).l0(t) <= k && all.get(1).l0(t) <= k);
        }
    }

    @Test
    void topkKeepsTheKLargestPositivesTiesGoToTheLowerIndexAndFewerPositivesAllFire() throws IOException {
        // identity W_enc on 4 features, b_enc 0: pre = x
        SaeReference.Weights w = new SaeReference.Weights(4, 4, new float[] {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1},
                new float[] {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, new float[4], new float[4], null);
        try (Sae sae = Sae.load(writeSaeLensDir(tmp.resolve("k2"), w, "topk", 2, "float32").toString())) {
            for (String kind : new String[] {"scalar", "vector"}) {
                try (SaeEncoder e = SaeEncoders.create(sae, kind, new EncoderOptions(1, 2, 4))) {
                    SparseCodes c = e.encode(new float[] {3, 1, 2, 2.5f, /**/ 1, 2, 2, 0.5f, /**/ -1, 0.5f, 0, -2, /**/ -1, -2, -3, -4}, 4);
                    assertArrayEquals(new int[] {0, 3}, c.indices(0), kind + ": the two largest");
                    assertArrayEquals(new float[] {3, 2.5f}, c.values(0), kind);
                    assertArrayEquals(new int[] {1, 2}, c.indices(1), kind + ": 2 and 2 tie for the top two; 1 loses");
                    assertArrayEquals(new int[] {1}, c.indices(2), kind + ": one positive only (0 is not, ReLU)");
                    assertEquals(0, c.l0(3), kind + ": nothing positive");
                }
            }
        }
        try (Sae sae = Sae.load(writeSaeLensDir(tmp.resolve("k1"), w, "topk", 1, "float32").toString())) {
            for (String kind : new String[] {"scalar", "vector"}) {
                try (SaeEncoder e = SaeEncoders.create(sae, kind, new EncoderOptions(1, 1, 4))) {
                    assertArrayEquals(new int[] {0}, e.encode(new float[] {2, 2, 2, 1}, 1).indices(0), kind + ": a tie across tiles keeps the lowest index");
                }
            }
        }
    }

    @Test
    void jumpReluThresholdsAtOrBelowZeroActAsTheReluSaeLensApplies() throws IOException {
        // identity W_enc: pre = x; thresholds -1 (ReLU), 0 (ReLU), 0.5, -0.25
        float[] eye = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
        SaeReference.Weights w = new SaeReference.Weights(4, 4, eye, eye, new float[4], new float[4], new float[] {-1, 0, 0.5f, -0.25f});
        try (Sae sae = Sae.loadGemmaScopeNpz(writeNpz(tmp.resolve("layer_3/neg/params.npz"), w, false))) {
            assertEquals(-1f, sae.threshold(0), "the stored threshold is kept as given");
            assertEquals(0f, sae.encodeThreshold().getAtIndex(Sae.F32, 0), "the bound is max(threshold, 0)");
            for (String kind : new String[] {"scalar", "vector"}) {
                try (SaeEncoder e = SaeEncoders.create(sae, kind, SaeFixtures.small())) {
                    // SAELens: ReLU(pre) * (pre > thr) -> [0, 0, 0, 0] for pre [-0.5, 0, 0.5, -0.1]
                    assertEquals(0, e.encode(new float[] {-0.5f, 0, 0.5f, -0.1f}, 1).l0(0), kind + ": nothing fires at or below 0 or at the threshold");
                    SparseCodes c = e.encode(new float[] {0.25f, 1e-30f, 0.75f, 0.2f}, 1);
                    assertArrayEquals(new int[] {0, 1, 2, 3}, c.indices(0), kind);
                    assertArrayEquals(new float[] {0.25f, 1e-30f, 0.75f, 0.2f}, c.values(0), kind);
                }
            }
        }
    }

    @Test
    void cfgJsonAsSaeLensWritesIt() throws Exception {
        SaeConfig c = SaeConfig.parse("""
                {"architecture": "jumprelu", "d_in": 8, "d_sae": 16, "dtype": "torch.bfloat16", "apply_b_dec_to_input": false,
                 "normalize_activations": "none",
                 "metadata": {"model_name": "gemma-2-2b", "hook_name": "blocks.5.hook_resid_post", "context_size": 128,
                              "neuronpedia_id": "gemma-2-2b/5-x", "hook_head_index": null}}""", Path.of("c/cfg.json"));
        assertEquals("bfloat16", c.dtype());
        assertEquals(5, c.hookLayer());
        assertEquals(128, c.contextSize());
        assertEquals("gemma-2-2b", c.modelName());
        assertEquals("gemma-2-2b/5-x", c.neuronpediaId());
        for (String dt : new String[] {"torch.float32", "float32", "torch.float16", "float64"})
            assertNotNull(SaeConfig.parse(cfg("\"dtype\": \"" + dt + "\""), Path.of("d/cfg.json")));
        assertRejects("dtype", "torch.int8", cfg("\"dtype\": \"torch.int8\""));
        assertRejects("hook_head_index", "3", cfg("\"hook_head_index\": 3"));
        assertRejects("k", "d_sae=16", cfg("\"architecture\": \"topk\", \"k\": 17"));
        assertRejects("rescale_acts_by_decoder_norm", "true", cfg("\"architecture\": \"topk\", \"k\": 4, \"rescale_acts_by_decoder_norm\": true"));
        assertRejects("hook_layer", "block 3", cfg("\"hook_layer\": 4"));
        assertRejects("normalize_activations", "layer_norm", cfg("\"normalize_activations\": \"layer_norm\""));
        SaeConfig old = SaeConfig.parse(cfg("\"architecture\": \"topk\", \"activation_fn_kwargs\": {\"k\": 5}"), Path.of("o/cfg.json"));
        assertEquals(5, old.k(), "SAELens < 6 kept k in activation_fn_kwargs");
        assertNull(SaeConfig.parse(cfg("\"dtype\": \"float32\""), Path.of("j/cfg.json")).k());
        assertFalse(SaeConfig.gemmaScope(8, 16, 5, null).toJson().contains("\"k\""), "k is written only for topk");
        assertTrue(SaeConfig.gemmaScope(8, 16, 5, null).withArchitecture("topk", 3).toJson().contains("\"k\" : 3"));
    }

    /** A valid SAELens 6 config of a jumprelu SAE with hook blocks.3.hook_resid_post, plus {@code extra} keys (later keys win). */
    static String cfg(String extra) {
        // extra's architecture replaces the base's: cfg.json is read strictly, a key given twice is rejected
        String base = (extra.contains("\"architecture\"") ? "" : "\"architecture\": \"jumprelu\", ")
                + "\"d_in\": 8, \"d_sae\": 16, \"apply_b_dec_to_input\": false, "
                + "\"metadata\": {\"model_name\": \"m\", \"hook_name\": \"blocks.3.hook_resid_post\"}";
        return "{" + base + ", " + extra + "}";
    }

    static void assertRejects(String field, String mentions, String json) {
        FormatException e = assertThrows(FormatException.class, () -> SaeConfig.parse(json, Path.of("r/cfg.json")), json);
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().contains(mentions), e.getMessage());
    }

    @Test
    void tensorsMustMatchTheArchitecture() throws IOException {
        SaeReference.Weights jr = SaeReference.random(4, 6, 1, true, 0);
        SaeReference.Weights plain = SaeReference.random(4, 6, 1, false, 0);
        FormatException e = assertThrows(FormatException.class, () -> Sae.load(writeSaeLensDir(tmp.resolve("s"), jr, "standard", null, "float32").toString()));
        assertEquals("threshold", e.field(), e.getMessage());
        FormatException m = assertThrows(FormatException.class, () -> Sae.load(writeSaeLensDir(tmp.resolve("j"), plain, "jumprelu", null, "float32").toString()));
        assertEquals("threshold", m.field(), m.getMessage());
        assertTrue(m.getMessage().contains("missing"), m.getMessage());
    }

    @Test
    void gemmaScopeScalingFactorOfOnesIsDroppedAndAnyOtherRefused() throws IOException {
        SaeReference.Weights w = SaeReference.random(4, 6, 2, true, 0);
        Path ok = writeNpz(tmp.resolve("a/layer_1/x/params.npz"), w, true);
        Map<String, NpzWriter.Member> m = new LinkedHashMap<>();
        m.put("w_enc", new NpzWriter.Member("<f4", new long[] {4, 6}, seg(w.wEncT()), true));
        m.put("w_dec", new NpzWriter.Member("<f4", new long[] {6, 4}, seg(w.wDecT()), true));
        m.put("b_enc", NpzWriter.Member.floats(w.bEnc()));
        m.put("b_dec", NpzWriter.Member.floats(w.bDec()));
        m.put("threshold", NpzWriter.Member.floats(w.thr()));
        m.put("scaling_factor", NpzWriter.Member.floats(new float[] {1, 1, 1, 1, 1, 1}));
        Path ones = tmp.resolve("b/layer_1/x/params.npz");
        NpzWriter.writeMembers(ones, m);
        try (Sae a = Sae.loadGemmaScopeNpz(ok); Sae b = Sae.loadGemmaScopeNpz(ones);
             SaeEncoder ea = SaeEncoders.create(a, "scalar", SaeFixtures.small()); SaeEncoder eb = SaeEncoders.create(b, "scalar", SaeFixtures.small())) {
            float[] x = SaeReference.inputs(3, 4, 1);
            SaeReference.assertSameCodes(ea.encode(x, 3), eb.encode(x, 3), "scaling_factor of ones");
        }
        m.put("scaling_factor", NpzWriter.Member.floats(new float[] {1, 1, 2, 1, 1, 1}));
        Path two = tmp.resolve("c/layer_1/x/params.npz");
        NpzWriter.writeMembers(two, m);
        FormatException e = assertThrows(FormatException.class, () -> Sae.loadGemmaScopeNpz(two));
        assertEquals("scaling_factor", e.field());
        m.remove("scaling_factor");
        m.put("W_enc", new NpzWriter.Member("<f4", new long[] {4, 6}, seg(w.wEnc())));
        Path both = tmp.resolve("d/layer_1/x/params.npz");
        NpzWriter.writeMembers(both, m);
        FormatException d = assertThrows(FormatException.class, () -> Sae.loadGemmaScopeNpz(both));
        assertTrue(d.getMessage().contains("both W_enc and w_enc"), d.getMessage());
    }

    @Test
    void writerTurnsATransposedWEncAndATopkSaeIntoSaeLensDirsThatEncodeTheSame() throws IOException {
        SaeReference.Weights w = SaeReference.random(9, 70, 4, true, 0.2);
        float[] x = SaeReference.inputs(5, 9, 2);
        try (Sae f = Sae.loadGemmaScopeNpz(writeNpz(tmp.resolve("layer_2/f/params.npz"), w, true))) {
            for (WeightFormat fmt : WeightFormat.values()) {
                Path out = tmp.resolve("out-" + fmt);
                SaeWriter.writeSaeLensDir(f, out, fmt);
                try (Sae back = Sae.loadSaeLensDir(out); SaeEncoder e1 = SaeEncoders.create(f, "scalar", SaeFixtures.small());
                     SaeEncoder e2 = SaeEncoders.create(back, "scalar", SaeFixtures.small())) {
                    assertFalse(back.wEncTransposed());
                    if (fmt == WeightFormat.F32) SaeReference.assertSameCodes(e1.encode(x, 5), e2.encode(x, 5), "written from a Fortran W_enc");
                    else assertEquals(WeightFormat.BF16, back.wEnc().format());
                }
            }
        }
        SaeReference.Weights p = SaeReference.random(9, 70, 5, false, 0);
        try (Sae t = Sae.load(writeSaeLensDir(tmp.resolve("topk"), p, "topk", 3, "float32").toString())) {
            Path out = tmp.resolve("topk-out");
            SaeWriter.writeSaeLensDir(t, out, WeightFormat.F32);
            assertTrue(Files.readString(out.resolve("cfg.json")).contains("\"k\" : 3"));
            try (Sae back = Sae.loadSaeLensDir(out); SaeEncoder e1 = SaeEncoders.create(t, "vector", SaeFixtures.small());
                 SaeEncoder e2 = SaeEncoders.create(back, "vector", SaeFixtures.small())) {
                assertFalse(back.hasThreshold(), "no threshold tensor for a topk SAE");
                SaeReference.assertSameCodes(e1.encode(x, 5), e2.encode(x, 5), "topk round trip");
            }
        }
    }
}
