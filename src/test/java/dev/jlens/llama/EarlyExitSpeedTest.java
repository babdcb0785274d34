package dev.jlens.llama;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Early exit stops the graph after l_out-12: on a 26-layer model that skips layers 13..25 and the
 * lm_head, so a capture must take clearly less time than the same capture with the full forward.
 */
class EarlyExitSpeedTest {
    @Test
    void earlyExitIsMeasurablyFasterThanFullForward() {
        try (Model m = Model.load(TinyModel.deep());
             Context ctx = m.newContext(Context.Params.defaults().withCtx(2048).withThreads(2))) {
            List<int[]> prompts = new ArrayList<>();
            for (int i = 0; i < 64; i++) prompts.add(m.vocab().tokenize("the old cat sat on the new mat and my friend likes long walks in the city"));
            Context.CaptureSpec early = Context.CaptureSpec.layer(12);
            Context.CaptureSpec full = new Context.CaptureSpec(new int[]{12}, false);
            time(ctx, prompts, early);
            time(ctx, prompts, full); // warm-up
            long[] e = new long[5], f = new long[5];
            for (int i = 0; i < 5; i++) {
                e[i] = time(ctx, prompts, early);
                f[i] = time(ctx, prompts, full);
            }
            Arrays.sort(e);
            Arrays.sort(f);
            double ratio = (double) f[2] / e[2];
            System.out.printf("capture at layer 12 of 26: early exit %.2f ms, full forward %.2f ms (x%.2f)%n", e[2] / 1e6, f[2] / 1e6, ratio);
            assertTrue(ratio > 1.3, "early exit should skip about half the layers; full/early = " + ratio);
        }
    }

    private static long time(Context ctx, List<int[]> prompts, Context.CaptureSpec spec) {
        long t0 = System.nanoTime();
        try (Activations a = ctx.capture(prompts, spec)) {
            return System.nanoTime() - t0;
        }
    }
}
