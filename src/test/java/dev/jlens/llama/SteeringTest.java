package dev.jlens.llama;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class SteeringTest {
    static Model model;

    @BeforeAll
    static void load() { model = Model.load(TinyModel.f32()); }

    @AfterAll
    static void close() { model.close(); }

    static Context ctx() {
        return model.newContext(Context.Params.defaults().withCtx(256).withThreads(2).withF32KvCache(true));
    }

    static float[] randomVector(long seed, double norm) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[model.nEmbd()];
        double s = 0;
        for (int i = 0; i < v.length; i++) { v[i] = (float) (r.nextDouble() * 2 - 1); s += v[i] * v[i]; }
        for (int i = 0; i < v.length; i++) v[i] = (float) (v[i] * norm / Math.sqrt(s));
        return v;
    }

    @Test
    void steeringAtLayer12ShiftsLOut12ByExactlyTheVectorAndLeavesLowerLayersAlone() {
        List<int[]> prompts = List.of(model.vocab().tokenize("the capital of France is Paris"), model.vocab().tokenize("a dog"));
        float[] v = randomVector(3, 5.0);
        Context.CaptureSpec spec = new Context.CaptureSpec(new int[] {6, 11, 12}, true);
        try (Context c = ctx(); Activations plain = c.capture(prompts, spec)) {
            Activations steered;
            try (Steering s = c.steer(v, 12)) {
                steered = c.capture(prompts, spec);
            }
            try (steered) {
                assertEquals(-1L, plain.layer(6).mismatch(steered.layer(6)), "layer 6 must not change");
                assertEquals(-1L, plain.layer(11).mismatch(steered.layer(11)), "layer 11 must not change");
                double worst = 0;
                for (int r = 0; r < plain.rows(); r++) {
                    for (int k = 0; k < v.length; k++) {
                        double d = steered.get(12, r, k) - plain.get(12, r, k) - v[k];
                        worst = Math.max(worst, Math.abs(d));
                    }
                }
                assertTrue(worst < 1e-4, "l_out-12 difference minus the vector: " + worst);
            }
            // closing restores the unsteered computation bit for bit
            try (Activations again = c.capture(prompts, spec)) {
                assertEquals(-1L, plain.layer(12).mismatch(again.layer(12)));
            }
        }
    }

    @Test
    void steeringAtLayer11ChangesLayer12ButNotTheOtherWayRound() {
        List<int[]> prompts = List.of(model.vocab().tokenize("hello world"));
        Context.CaptureSpec spec = new Context.CaptureSpec(new int[] {10, 11}, true);
        try (Context c = ctx(); Activations plain = c.capture(prompts, spec)) {
            try (Steering s = c.steer(randomVector(4, 3.0), 11); Activations st = c.capture(prompts, spec)) {
                assertEquals(-1L, plain.layer(10).mismatch(st.layer(10)));
                assertNotEquals(-1L, plain.layer(11).mismatch(st.layer(11)));
            }
        }
    }

    @Test
    void closingTheScopeRestoresGenerationBitForBitAndSeedsAreReproducible() {
        int[] prompt = model.vocab().tokenize("the old cat sat on the");
        Generation.Params p = Generation.Params.sampled(12, 0.9f, 40, 0.95f, 1234);
        try (Context c = ctx()) {
            Generation.Result a = Generation.generate(c, prompt, p, null);
            Generation.Result b = Generation.generate(c, prompt, p, null);
            assertArrayEquals(a.tokens(), b.tokens(), "same seed, same tokens");
            Generation.Result steered;
            try (Steering s = c.steer(randomVector(5, 40.0), 6)) {
                steered = Generation.generate(c, prompt, p, null);
            }
            assertFalse(java.util.Arrays.equals(a.tokens(), steered.tokens()), "a strong steer changes the text");
            Generation.Result after = Generation.generate(c, prompt, p, null);
            assertArrayEquals(a.tokens(), after.tokens(), "closing the scope restores the unsteered generation");
            assertEquals(a.text(), after.text());
            float[] l1 = c.nextTokenLogits(prompt);
            float[] l2 = c.nextTokenLogits(prompt);
            assertArrayEquals(l1, l2);
        }
    }

    @Test
    void greedyGenerationStreamsTokensAndStopsAtMaxTokens() {
        int[] prompt = model.vocab().tokenize("bread and cheese and");
        StringBuilder streamed = new StringBuilder();
        try (Context c = ctx()) {
            Generation.Result r = Generation.generate(c, prompt, Generation.Params.greedy(5), (t, piece) -> streamed.append(piece));
            assertTrue(r.tokens().length <= 5);
            assertEquals(r.text(), streamed.toString());
            if (r.tokens().length == 5) assertEquals(Generation.StopReason.MAX_TOKENS, r.stopReason());
        }
    }

    @Test
    void wrongLengthNonFiniteAndOutOfRangeLayersAreRejectedBeforeNativeCalls() {
        try (Context c = ctx()) {
            var e1 = assertThrows(IllegalArgumentException.class, () -> c.steer(new float[model.nEmbd() - 1], 12));
            assertTrue(e1.getMessage().contains("n_embd is " + model.nEmbd()), e1.getMessage());
            assertThrows(IllegalArgumentException.class, () -> c.steer(new float[model.nEmbd()], 0));
            var e2 = assertThrows(IllegalArgumentException.class, () -> c.steer(new float[model.nEmbd()], model.nLayer()));
            assertTrue(e2.getMessage().contains("layers 1.." + (model.nLayer() - 1)), e2.getMessage());
            float[] nan = new float[model.nEmbd()];
            nan[3] = Float.NaN;
            assertThrows(IllegalArgumentException.class, () -> c.steer(nan, 5));
            try (Steering s = c.steer(new float[model.nEmbd()], 5)) {
                assertThrows(IllegalStateException.class, () -> c.steer(new float[model.nEmbd()], 6), "one scope at a time");
            }
            try (Steering s = c.steer(new float[model.nEmbd()], 6)) {
                assertEquals(6, s.layer());
            }
        }
    }
}
