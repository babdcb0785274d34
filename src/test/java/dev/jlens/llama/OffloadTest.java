package dev.jlens.llama;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Capture-only offload: blocks 0..12 may go to a GPU, blocks 13.. and the tied output stay in CPU memory.
 * Without a GPU device this proves the override patterns and that a model loaded with them (all layers
 * "offloaded", overrides marshalled into llama_model_tensor_buft_override) captures exactly what a CPU model
 * captures. On a CUDA build with a GPU, GpuCaptureTest checks the real offload.
 */
class OffloadTest {
    @Test
    void overridePatternsKeepBlocksAboveTheCaptureLayerAndTheOutputOnTheCpu() {
        List<Pattern> pats = Model.cpuPatterns(12).stream().map(Pattern::compile).toList();
        java.util.function.Predicate<String> cpu = n -> pats.stream().anyMatch(p -> p.matcher(n).find());
        for (int l = 0; l <= 12; l++) assertFalse(cpu.test("blk." + l + ".attn_q.weight"), "block " + l);
        for (int l = 13; l < 26; l++) assertTrue(cpu.test("blk." + l + ".ffn_up.weight"), "block " + l);
        assertTrue(cpu.test("token_embd.weight"));
        assertTrue(cpu.test("output_norm.weight"));
        assertFalse(cpu.test("blk.1.attn_norm.weight"));
    }

    @Test
    void modelLoadedForGpuCaptureCapturesTheSameAsOnTheCpu() {
        // bit-for-bit only where no GPU takes the offloaded blocks; with one, GpuCaptureTest compares with a tolerance
        org.junit.jupiter.api.Assumptions.assumeTrue(Backends.gpus().isEmpty(),
                "a GPU device is present, so the offloaded blocks really run there (see GpuCaptureTest)");
        List<int[]> prompts;
        float[] plain;
        try (Model m = Model.load(TinyModel.f32()); Context c = m.newContext(Context.Params.defaults().withCtx(256).withThreads(2))) {
            prompts = List.of(m.vocab().tokenize("the capital of France is Paris"));
            try (Activations a = c.capture(prompts, Context.CaptureSpec.layer(12))) {
                plain = a.data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
            }
        }
        try (Model m = Model.load(TinyModel.f32(), Model.Params.captureOnGpu(12));
             Context c = m.newContext(Context.Params.defaults().withCtx(256).withThreads(2));
             Activations a = c.capture(prompts, Context.CaptureSpec.layer(12))) {
            assertArrayEquals(plain, a.data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT));
        }
    }
}
