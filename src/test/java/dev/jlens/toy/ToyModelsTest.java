package dev.jlens.toy;

import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufTestReader;
import dev.jlens.formats.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ToyModelsTest {
    @TempDir Path dir;

    private static final Gemma2Config C = Gemma2Config.tiny().withNLayer(3);

    private static Vocabulary vocab() { return Vocabulary.build(List.of("Paris", "France"), C.nVocab()); }

    @Test
    void streamedFileEqualsFileOfGeneratedWeights() throws IOException {
        Vocabulary v = vocab();
        Path a = dir.resolve("a.gguf"), b = dir.resolve("b.gguf");
        ToyModels.write(a, C, v, 42L, GgmlType.F16);
        ToyModels.write(b, C, v, ToyModels.generate(C, v, 42L), GgmlType.F16);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        Path c = dir.resolve("c.gguf");
        ToyModels.write(c, C, v, 43L, GgmlType.F16);
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)), "seed matters");
    }

    @Test
    void tensorTableHasLlamaCppGemma2NamesAndShapes() throws IOException {
        Path f = dir.resolve("m.gguf");
        ToyModels.write(f, C, vocab(), 1L, GgmlType.Q8_0);
        GgufTestReader r = new GgufTestReader(f);
        assertEquals(1 + 11 * 3 + 1, r.tensors.size());
        assertArrayEquals(new long[] {64, 512}, r.tensor("token_embd.weight").ne());
        assertArrayEquals(new long[] {64, 64}, r.tensor("blk.0.attn_q.weight").ne());
        assertArrayEquals(new long[] {64, 32}, r.tensor("blk.2.attn_k.weight").ne());
        assertArrayEquals(new long[] {64, 32}, r.tensor("blk.1.attn_v.weight").ne());
        assertArrayEquals(new long[] {64, 64}, r.tensor("blk.0.attn_output.weight").ne());
        assertArrayEquals(new long[] {64, 128}, r.tensor("blk.0.ffn_gate.weight").ne());
        assertArrayEquals(new long[] {64, 128}, r.tensor("blk.0.ffn_up.weight").ne());
        assertArrayEquals(new long[] {128, 64}, r.tensor("blk.0.ffn_down.weight").ne());
        for (String n : new String[] {"attn_norm", "post_attention_norm", "ffn_norm", "post_ffw_norm"}) {
            assertArrayEquals(new long[] {64}, r.tensor("blk.1." + n + ".weight").ne());
            assertEquals(GgmlType.F32.id, r.tensor("blk.1." + n + ".weight").type());
        }
        assertEquals(GgmlType.Q8_0.id, r.tensor("blk.0.ffn_down.weight").type());
        assertTrue(r.tensors.stream().noneMatch(t -> t.name().equals("output.weight")), "gemma2 ties the LM head");
        assertEquals("gemma2", r.kv.get("general.architecture"));
        assertEquals(7, r.kv.get("general.file_type"));
        assertEquals(3, r.kv.get("gemma2.block_count"));
        assertEquals(16, r.kv.get("gemma2.attention.key_length"));
        assertEquals(8, r.kv.get("gemma2.attention.sliding_window"));
        assertEquals(50f, r.kv.get("gemma2.attn_logit_softcapping"));
        assertEquals(30f, r.kv.get("gemma2.final_logit_softcapping"));
        assertEquals(1e-6f, r.kv.get("gemma2.attention.layer_norm_rms_epsilon"));
        assertEquals("llama", r.kv.get("tokenizer.ggml.model"));
        assertEquals(512, ((List<?>) r.kv.get("tokenizer.ggml.tokens")).size());
        assertEquals(5, r.arrayElementType.get("tokenizer.ggml.token_type"));
        assertEquals(6, r.arrayElementType.get("tokenizer.ggml.scores"));
        assertEquals(2, r.kv.get("tokenizer.ggml.bos_token_id"));
        assertEquals(true, r.kv.get("tokenizer.ggml.add_bos_token"));
        assertEquals(false, r.kv.get("tokenizer.ggml.add_eos_token"));
    }

    @Test
    void q8_0TensorsHoldJavaQuantizationOfTheGeneratedWeights() throws IOException {
        Vocabulary v = vocab();
        Path f = dir.resolve("q.gguf");
        ToyModels.write(f, C, v, 5L, GgmlType.Q8_0);
        Gemma2Weights w = ToyModels.generate(C, v, 5L);
        GgufTestReader r = new GgufTestReader(f);
        byte[] expected = GgufWriter.quantizeQ8_0(w.tensor("blk.2.ffn_down.weight"));
        assertArrayEquals(expected, r.data("blk.2.ffn_down.weight", expected.length));
        assertArrayEquals(w.tensor("blk.0.attn_norm.weight"), r.f32("blk.0.attn_norm.weight", 64));
    }

    @Test
    void generatedScalesKeepActivationsOrderOne() {
        Gemma2Weights w = ToyModels.generate(C, vocab(), 9L);
        assertEquals(1.0 / Math.sqrt(64), std(w.tensor("blk.0.attn_q.weight")), 0.01);
        assertEquals(1.0 / Math.sqrt(128), std(w.tensor("blk.0.ffn_down.weight")), 0.01);
        assertEquals(1.0 / Math.sqrt(64), std(w.tokenEmbd()), 0.005);
        float[] norm = w.tensor("blk.1.post_ffw_norm.weight");
        for (float x : norm) assertTrue(x > 0.8f && x < 1.2f, "norm weight " + x);
    }

    private static double std(float[] a) {
        double s = 0, ss = 0;
        for (float x : a) { s += x; ss += (double) x * x; }
        double m = s / a.length;
        return Math.sqrt(ss / a.length - m * m);
    }

    @Test
    void mismatchedVocabularyOrUnsupportedTypeIsRejected() {
        Vocabulary small = Vocabulary.build(List.of(), 400);
        assertThrows(IllegalArgumentException.class, () -> ToyModels.generate(C, small, 1L));
        assertThrows(IllegalArgumentException.class, () -> ToyModels.write(dir.resolve("x.gguf"), C, vocab(), 1L, GgmlType.Q4_0));
        assertFalse(Files.exists(dir.resolve("x.gguf")));
    }

    @Test
    void swaLayersAreTheEvenOnes() {
        Gemma2Config c = Gemma2Config.gemma2_2b();
        assertTrue(c.isSwaLayer(0));
        assertFalse(c.isSwaLayer(1));
        assertTrue(c.isSwaLayer(12));
        assertFalse(c.isSwaLayer(25));
        assertEquals(1 / 16.0, c.attentionScale(), 1e-12);   // 2B scales by head_dim 256, not n_embd/n_head
    }
}
