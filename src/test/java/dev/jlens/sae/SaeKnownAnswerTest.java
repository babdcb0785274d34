package dev.jlens.sae;

import static org.junit.jupiter.api.Assertions.*;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaeKnownAnswerTest {
    @TempDir Path tmp;

    @Test
    void handComputed2x3SaeEncodesAndDecodesToTheHandNumbers() throws Exception {
        Path npz = SaeFixtures.write(tmp, "hand", SaeFixtures.handMade());
        try (Sae sae = Sae.loadGemmaScopeNpz(npz)) {
            assertEquals(12, sae.cfg().hookLayer());
            assertFalse(sae.cfg().applyBDecToInput());
            for (String kind : new String[] {"scalar", "vector"}) {
                try (SaeEncoder enc = SaeEncoders.create(sae, kind, SaeFixtures.small())) {
                    // x = [1, 0.5]: pre = [1, 0 + 0.5 + 0.5, 2 - 0.5] = [1, 1, 1.5]; thresholds [0.5, 1, 0.1]
                    // feature 1 sits exactly on its threshold and must stay off (strict >)
                    SparseCodes c = enc.encode(new float[] {1f, 0.5f}, 1);
                    assertArrayEquals(new int[] {0, 2}, c.indices(0), kind);
                    assertArrayEquals(new float[] {1f, 1.5f}, c.values(0), kind);
                    // x̂ = 1*[1,0] + 1.5*[0.6,0.8] + [0.1,-0.1] = [2.0, 1.1]
                    float[] xh = new SaeMetrics(sae).decode(c, 0);
                    assertArrayEquals(new float[] {2.0f, 1.1f}, xh, 1e-6f, kind);
                }
            }
        }
    }

    @Test
    void preEqualToThresholdIsInactiveAndOneUlpAboveIsActive() throws Exception {
        var m = SaeFixtures.handMade();
        // thresholds chosen against x = [1, 0]: pre = [1, 0.5, 2]
        m.put("threshold", SaeFixtures.t("threshold", new long[] {3}, 1f, Math.nextDown(0.5f), 2f));
        try (Sae sae = Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, "ties", m));
             SaeEncoder s = SaeEncoders.create(sae, "scalar", SaeFixtures.small());
             SaeEncoder v = SaeEncoders.create(sae, "vector", SaeFixtures.small())) {
            for (SaeEncoder e : new SaeEncoder[] {s, v}) {
                SparseCodes c = e.encode(new float[] {1f, 0f}, 1);
                assertArrayEquals(new int[] {1}, c.indices(0), e.kind() + ": only the feature just above its threshold fires");
            }
        }
    }


    @Test
    void applyBDecToInputSubtractsBDecBeforeEncoding() throws Exception {
        Path npz = SaeFixtures.write(tmp, "hand", SaeFixtures.handMade());
        SaeConfig cfg = SaeConfig.gemmaScope(2, 3, 12, null).withApplyBDecToInput(true);
        try (Sae sae = Sae.loadGemmaScopeNpz(npz, cfg);
             SaeEncoder enc = SaeEncoders.create(sae, "vector", SaeFixtures.small())) {
            // x - b_dec = [0.9, 0.6]: pre = [0.9, 1.1, 1.2], all above [0.5, 1, 0.1]
            SparseCodes c = enc.encode(new float[] {1f, 0.5f}, 1);
            assertArrayEquals(new int[] {0, 1, 2}, c.indices(0));
            assertArrayEquals(new float[] {0.9f, 1.1f, 1.2f}, c.values(0), 1e-6f);
        }
    }

    @Test
    void inputEqualToADecoderRowActivatesThatFeatureMost() throws Exception {
        Path npz = tmp.resolve("layer_12/toy/params.npz");
        ToySae.builder(64, 512, 3).targetL0(5).writeGemmaScopeNpz(npz);
        try (Sae sae = Sae.loadGemmaScopeNpz(npz);
             SaeEncoder enc = SaeEncoders.create(sae, "auto", SaeFixtures.small())) {
            for (int f : new int[] {0, 17, 511}) {
                float[] row = sae.decoderRow(f);
                float[] x = new float[64];
                for (int k = 0; k < 64; k++) x[k] = 4 * row[k];
                SparseCodes c = enc.encode(x, 1);
                assertTrue(c.value(0, f) > 0, "feature " + f + " must fire on its own decoder row");
                int[] idx = c.indices(0);
                float[] val = c.values(0);
                int best = idx[0];
                float bv = val[0];
                for (int i = 1; i < idx.length; i++) if (val[i] > bv) { bv = val[i]; best = idx[i]; }
                assertEquals(f, best, "the row's own feature has the largest activation");
            }
        }
    }

    @Test
    void reconstructionMetricsFollowTheSaeLensDefinitionsAndHonourTheMask() throws Exception {
        try (Sae sae = Sae.loadGemmaScopeNpz(SaeFixtures.write(tmp, "hand", SaeFixtures.handMade()));
             SaeEncoder enc = SaeEncoders.create(sae, "scalar", SaeFixtures.small())) {
            // token 0 = [1, 0.5] reconstructs as [2.0, 1.1]; token 1 = [0,0] has no active feature: x̂ = b_dec
            // token 2 is a huge "BOS" row that the mask removes
            float[] x = {1f, 0.5f, 0f, 0f, 1000f, -1000f};
            SparseCodes c = enc.encode(x, 3);
            SaeMetrics.Report r = new SaeMetrics(sae).evaluate(MemorySegment.ofArray(x), c, new boolean[] {false, false, true});
            double e0 = 1.0 * 1.0 + 0.6 * 0.6, e1 = 0.1 * 0.1 + 0.1 * 0.1;
            // mean over tokens 0,1 = [0.5, 0.25]; variance sum = (0.25+0.0625)*2
            double var = 2 * (0.25 + 0.0625);
            assertEquals(2, r.summary().tokens());
            assertEquals((e0 + e1) / var, r.summary().fvu(), 1e-6);
            assertEquals((e0 + e1) / 4, r.summary().mse(), 1e-6);
            assertEquals(1.0, r.summary().meanL0(), 1e-12);
            double cos0 = (1 * 2.0 + 0.5 * 1.1) / Math.sqrt(1.25 * (4 + 1.21));
            assertEquals(cos0, r.perToken()[0].cosine(), 1e-6);
            assertEquals(0.0, r.perToken()[1].cosine(), "a zero input has no direction: cosine 0");
            assertNull(r.perToken()[2], "masked token has no metrics");
        }
    }
}
