package dev.jlens.toy.planted;

import static org.junit.jupiter.api.Assertions.*;

import dev.jlens.sae.EncoderOptions;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeEncoders;
import dev.jlens.sae.ToySae;
import dev.jlens.toy.Vocabulary;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The two helpers added to shared classes for the planted toy. */
class PlantingHelpersTest {
    @TempDir Path tmp;

    @Test
    void plantedFeatureWithSeparateEncoderReadsItsEncoderAndWritesItsDecoder() throws Exception {
        float[] dec = new float[16], enc = new float[16];
        dec[0] = 3f;
        dec[1] = 4f;
        enc[2] = 2f;
        Path npz = tmp.resolve("layer_12/x/params.npz");
        ToySae.Builder b = ToySae.builder(16, 40, 3).targetL0(2).plantFeature(7, dec, enc, 1f);
        b.writeGemmaScopeNpz(npz);
        try (Sae sae = Sae.loadGemmaScopeNpz(npz, b.config());
             SaeEncoder e = SaeEncoders.create(sae, "scalar", new EncoderOptions(1, 8, 4))) {
            assertArrayEquals(new float[] {0.6f, 0.8f, 0f}, java.util.Arrays.copyOf(sae.decoderRow(7), 3), 1e-6f);
            assertEquals(2f, sae.wEnc().get(2, 7), 0f, "encoder column kept as given, not normalised");
            assertEquals(0f, sae.wEnc().get(0, 7), 0f);
            float[] x = new float[16];
            x[2] = 1.5f; // 2 * 1.5 = 3 > threshold 1
            assertEquals(3f, e.encode(x, 1).value(0, 7), 1e-5f);
            x[2] = 0f;
            x[0] = 10f; // along the decoder only: the encoder does not see it
            assertEquals(0f, e.encode(x, 1).value(0, 7));
        }
        assertThrows(IllegalArgumentException.class, () -> ToySae.builder(16, 40, 3).plantFeature(7, dec, new float[16], 1f));
        assertThrows(IllegalArgumentException.class, () -> ToySae.builder(16, 40, 3).plantFeature(7, dec, new float[15], 1f));
    }

    @Test
    void minimumSizeIsTheSmallestSizeBuildAccepts() {
        List<String> words = List.of("Paris", "Lyon", "café", ",");
        int n = Vocabulary.minimumSize(words);
        assertEquals(n, Vocabulary.build(words, n).size());
        assertThrows(IllegalArgumentException.class, () -> Vocabulary.build(words, n - 1));
    }
}
