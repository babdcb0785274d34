package dev.jlens.atlas;

import dev.jlens.api.Atlas;
import dev.jlens.formats.GgufFile;
import dev.jlens.kernels.KernelProvider;
import dev.jlens.llama.Quantizer;
import dev.jlens.sae.Sae;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The logit lens by ggml's mul_mat on the toy model's quantized token_embd ({@link LogitLens#compute}) against the
 * f32 reference in Java ({@link LogitLens#computeF32}) on every feature of both toy SAEs (a superset of the fired
 * ones), with the toy's F32 embedding and with the toy quantized to Q8_0: the same promoted and suppressed tokens up
 * to near-ties, values within a rounding tolerance, and the same bits whatever the thread count.
 */
class LogitLensGgmlTest {
    static Atlas.Toy toy;
    @TempDir static Path tmp;

    @BeforeAll
    static void generate() throws IOException {
        toy = Atlas.toy(null);
    }

    /** The toy's own F32 token_embd. */
    @Test
    void ggmlListsEqualTheF32ReferenceOnEveryToyFeatureF32() throws IOException {
        compare(toy.model(), 1e-5);
    }

    /** The toy quantized to Q8_0 (as the 2B-shaped bench model): token_embd is Q8_0, and ggml rounds the rows to Q8_0. */
    @Test
    void ggmlListsEqualTheF32ReferenceOnEveryToyFeatureQ8_0() throws IOException {
        Path q8 = tmp.resolve("toy-q8_0.gguf");
        Quantizer.quantizeModel(toy.model(), q8, Quantizer.FileType.Q8_0, 2);
        compare(q8, 5e-2);
    }

    /**
     * Every feature of both toy SAEs: each rank of each list holds the same token as the reference, or a token the
     * reference ranks within its top 12 at a value within {@code tol} (relative to the list's largest magnitude) of
     * the reference's value at that rank (a near-tie that rounding may order either way); values at every rank
     * within {@code tol}.
     */
    private static void compare(Path model, double tol) throws IOException {
        try (GgufFile gguf = GgufFile.open(model)) {
            LogitLens lens = new LogitLens(gguf, KernelProvider.best(), 2);
            String type = gguf.requireTensor("token_embd.weight").type().toString();
            int features = 0, swaps = 0, missing = 0;
            double worstRel = 0, worstGap = 0;
            for (String id : toy.saes()) {
                Sae sae = Sae.load(id);
                int n = sae.dSae();
                List<LogitLens.Lists> ref = lens.computeF32(n, sae::decoderRow, 10);
                List<LogitLens.Lists> got = lens.compute(n, sae::decoderRow, 10);
                assertEquals(n, got.size());
                for (int f = 0; f < n; f++) {
                    for (int side = 0; side < 2; side++) {
                        List<LogitLens.Entry> r = side == 0 ? ref.get(f).positive() : ref.get(f).negative();
                        List<LogitLens.Entry> g = side == 0 ? got.get(f).positive() : got.get(f).negative();
                        assertEquals(10, g.size());
                        double scale = Math.abs(r.get(0).value());
                        float[] row = sae.decoderRow(f);
                        for (int i = 0; i < 10; i++) {
                            // each listed token's value against the reference value of the same token
                            int tok = g.get(i).token();
                            float tokRef = r.stream().filter(e -> e.token() == tok).map(LogitLens.Entry::value).findFirst()
                                    .orElseGet(() -> lens.referenceLogit(row, tok));
                            double err = Math.abs(g.get(i).value() - tokRef) / scale;
                            worstRel = Math.max(worstRel, err);
                            assertTrue(err <= tol, type + " feature " + f + " rank " + i + ": " + g.get(i) + ", reference value " + tokRef + " (reference " + r + ")");
                            if (r.get(i).token() != tok) swaps++;
                        }
                        for (LogitLens.Entry e : r) {
                            // a reference token the ggml list lacks sits at its boundary: within rounding of its last value
                            if (g.stream().anyMatch(x -> x.token() == e.token())) continue;
                            missing++;
                            double gap = Math.abs(e.value() - g.get(9).value()) / scale;
                            worstGap = Math.max(worstGap, gap);
                            assertTrue(gap <= 2 * tol, type + " feature " + f + ": reference " + e + " missing, not a near-tie of " + g.get(9) + " (reference " + r + ", ggml " + g + ")");
                        }
                    }
                }
                features += n;
            }
            System.out.printf("logit lens ggml vs f32 reference on %d toy features (token_embd %s): %d of %d list positions hold another token, %d reference "
                    + "tokens not in the ggml lists (at most %.3g x |top value| from the list's last value); worst |value - reference value of the same token| "
                    + "%.3g x |top value|%n", features, type, swaps, features * 20, missing, worstGap, worstRel);
        }
    }

    @Test
    void theThreadCountChangesNoBit() throws IOException {
        try (GgufFile gguf = GgufFile.open(toy.model())) {
            Sae sae = Sae.load(toy.saes().get(0));
            int n = Math.min(sae.dSae(), 200);
            List<LogitLens.Lists> one = new LogitLens(gguf, KernelProvider.best(), 1).compute(n, sae::decoderRow, 10);
            List<LogitLens.Lists> two = new LogitLens(gguf, KernelProvider.best(), 2).compute(n, sae::decoderRow, 10);
            assertEquals(one, two);
        }
    }
}
