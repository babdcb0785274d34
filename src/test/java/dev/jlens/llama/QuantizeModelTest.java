package dev.jlens.llama;

import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufFile;
import dev.jlens.toy.ToyDefault;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Quantizer#quantizeModel} (llama_model_quantize through a hand-written downcall) on the planted toy's F32 GGUF
 * (n_embd 256, n_ff 256, attention output rows of 128): the tensors get llama-quantize's recipe, the blocks equal
 * ggml_quantize_chunk's, and llama.cpp loads the result.
 */
class QuantizeModelTest {
    @TempDir Path tmp;

    static Map<String, GgmlType> types(Path gguf) throws IOException {
        Map<String, GgmlType> out = new HashMap<>();
        try (GgufFile f = GgufFile.open(gguf)) {
            for (GgufFile.TensorInfo t : f.tensors()) out.put(t.name(), t.type());
        }
        return out;
    }

    @Test
    void q8_0BlocksEqualGgmlsOwnQuantizerAndNormsStayF32() throws IOException {
        Path src = ToyDefault.ensure(true, null).model(), out = tmp.resolve("q8.gguf");
        Quantizer.quantizeModel(src, out, Quantizer.FileType.Q8_0, 2);
        assertFalse(Files.exists(tmp.resolve("q8.gguf.part")));
        Map<String, GgmlType> t = types(out);
        t.forEach((name, type) -> assertEquals(name.contains("norm") ? GgmlType.F32 : GgmlType.Q8_0, type, name));
        try (GgufFile in = GgufFile.open(src); GgufFile q = GgufFile.open(out)) {
            for (String name : new String[] {"token_embd.weight", "blk.3.attn_q.weight", "blk.12.ffn_down.weight", "blk.7.attn_output.weight"}) {
                GgufFile.TensorInfo a = in.requireTensor(name), b = q.requireTensor(name);
                long[] ne = a.ne();
                byte[] expected = Quantizer.quantize(GgmlType.Q8_0, in.readF32(a), (int) (a.elementCount() / ne[0]), (int) ne[0]);
                assertArrayEquals(expected, q.data(b).toArray(ValueLayout.JAVA_BYTE), name);
            }
        }
        try (Model m = Model.load(out)) {
            assertEquals(256, m.nEmbd());
        }
    }

    @Test
    void q4_K_mFollowsLlamaQuantizesRecipeWithItsFallbacks() throws IOException {
        Path src = ToyDefault.ensure(true, null).model(), out = tmp.resolve("q4km.gguf");
        Quantizer.quantizeModel(src, out, Quantizer.FileType.Q4_K_M, 2);
        Map<String, GgmlType> t = types(out);
        int q6 = 0;
        for (var e : t.entrySet()) {
            String name = e.getKey();
            GgmlType type = e.getValue();
            if (name.contains("norm")) assertEquals(GgmlType.F32, type, name);
            else if (name.equals("token_embd.weight")) assertEquals(GgmlType.Q6_K, type, "the tied output matrix gets Q6_K");
            // rows of 128 values do not fill a 256-value K-quant block: llama.cpp falls back from Q4_K to Q5_0
            else if (name.endsWith("attn_output.weight")) assertEquals(GgmlType.Q5_0, type, name);
            else assertTrue(type == GgmlType.Q4_K || type == GgmlType.Q6_K, name + " " + type);
            if (type == GgmlType.Q6_K && (name.endsWith("attn_v.weight") || name.endsWith("ffn_down.weight"))) q6++;
        }
        assertTrue(q6 > 0, "Q4_K_M gives some attn_v / ffn_down layers Q6_K");
        try (Model m = Model.load(out)) {
            assertEquals(14, m.nLayer());
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeLlamaCppRuns() {
        assertThrows(IllegalArgumentException.class, () -> Quantizer.quantizeModel(tmp.resolve("absent.gguf"), tmp.resolve("o.gguf"), Quantizer.FileType.F16, 1));
        assertThrows(IllegalArgumentException.class, () -> Quantizer.FileType.parse("q3_k_xl"));
        assertEquals(Quantizer.FileType.Q4_K_M, Quantizer.FileType.parse("Q4_K_M"));
    }
}
