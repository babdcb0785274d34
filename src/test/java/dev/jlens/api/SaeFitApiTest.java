package dev.jlens.api;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API refuses to encode a capture with an SAE of another layer (issue 16, point 3): {@link SparseAutoencoder#encode}
 * on the real capture path of the tiny toy model, and a bare params.npz loads through {@link SparseAutoencoder#load}.
 */
class SaeFitApiTest {
    @TempDir Path dir;

    @Test
    void encodeOfAnotherLayersCaptureIsBadInputNamingBothHooks() throws Exception {
        Path model = dir.resolve("tiny.gguf");
        Toys.writeModel(model, "tiny", "f32", 3);
        Path l12 = dir.resolve("s/layer_12/w/params.npz"), l5 = dir.resolve("s/layer_5/w/params.npz"), bare = dir.resolve("bare/params.npz");
        for (Path p : List.of(l12, l5, bare)) new Toys.RandomSae(64, 128, 4, 10, 5).writeGemmaScopeNpz(p);
        try (LensModel m = LensModel.load(model); LensSession s = m.newSession(256, 2);
             LayerActivations x = s.capture(List.of("The capital of France is Paris."), 5);
             SparseAutoencoder wrong = SparseAutoencoder.load(l12.toString(), EncoderKind.SCALAR);
             SparseAutoencoder right = SparseAutoencoder.load(l5.toString(), EncoderKind.SCALAR);
             SparseAutoencoder plain = SparseAutoencoder.load(bare.toString(), EncoderKind.SCALAR)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> wrong.encode(x));
            assertTrue(Failures.isBadInput(e));
            assertTrue(e.getMessage().contains("blocks.12.hook_resid_post") && e.getMessage().contains("blocks.5.hook_resid_post"), e.getMessage());
            assertEquals("blocks.5.hook_resid_post", right.hookName());
            assertEquals(x.rows(), right.encode(x).rows());
            assertNull(plain.hookName(), "a params.npz outside a layer_N folder: hook unknown");
            assertEquals(x.rows(), plain.encode(x).rows());
        }
    }
}
