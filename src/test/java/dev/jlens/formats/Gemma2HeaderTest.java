package dev.jlens.formats;

import static dev.jlens.formats.Rejects.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Gemma2HeaderTest {
    @TempDir
    Path dir;

    static final int LAYERS = 2, EMBD = 8, HEADS = 2, HEADS_KV = 1, HEAD_DIM = 4, FF = 16;
    static final String[] VOCAB = {"<pad>", "<eos>", "<bos>", "France", "Paris"};

    /** A toy gemma2 with every tensor llama.cpp's gemma2 loader asks for, all F32 zeros. */
    static GgufBuilder toy(Consumer<GgufBuilder> kvTweak) {
        GgufBuilder b = new GgufBuilder();
        b.string("general.architecture", "gemma2");
        b.u32("gemma2.context_length", 8192).u32("gemma2.embedding_length", EMBD).u32("gemma2.block_count", LAYERS)
                .u32("gemma2.feed_forward_length", FF).u32("gemma2.attention.head_count", HEADS)
                .u32("gemma2.attention.head_count_kv", HEADS_KV).u32("gemma2.attention.key_length", HEAD_DIM)
                .u32("gemma2.attention.value_length", HEAD_DIM).f32("gemma2.attention.layer_norm_rms_epsilon", 1e-6f)
                .f32("gemma2.attn_logit_softcapping", 50f).f32("gemma2.final_logit_softcapping", 30f)
                .u32("gemma2.attention.sliding_window", 4096);
        b.string("tokenizer.ggml.model", "llama").strings("tokenizer.ggml.tokens", VOCAB);
        kvTweak.accept(b);
        b.zeros("token_embd.weight", EMBD, VOCAB.length);
        b.zeros("output_norm.weight", EMBD);
        for (int i = 0; i < LAYERS; i++) {
            String p = "blk." + i + ".";
            b.zeros(p + "attn_norm.weight", EMBD);
            b.zeros(p + "attn_q.weight", EMBD, HEAD_DIM * HEADS);
            b.zeros(p + "attn_k.weight", EMBD, HEAD_DIM * HEADS_KV);
            b.zeros(p + "attn_v.weight", EMBD, HEAD_DIM * HEADS_KV);
            b.zeros(p + "attn_output.weight", HEAD_DIM * HEADS, EMBD);
            b.zeros(p + "post_attention_norm.weight", EMBD);
            b.zeros(p + "ffn_norm.weight", EMBD);
            b.zeros(p + "ffn_gate.weight", EMBD, FF);
            b.zeros(p + "ffn_up.weight", EMBD, FF);
            b.zeros(p + "ffn_down.weight", FF, EMBD);
            b.zeros(p + "post_ffw_norm.weight", EMBD);
        }
        return b;
    }

    private Path write(String name, GgufBuilder b) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, b.build());
        return p;
    }

    private Gemma2Header header(Path p) throws IOException {
        try (GgufFile g = GgufFile.open(p)) {
            return g.requireGemma2();
        }
    }

    @Test
    void toyGemma2YieldsItsHyperParameters() throws IOException {
        Gemma2Header h = header(write("toy.gguf", toy(b -> {})));
        assertEquals(LAYERS, h.nLayer());
        assertEquals(EMBD, h.nEmbd());
        assertEquals(HEADS, h.nHead());
        assertEquals(HEADS_KV, h.nHeadKv());
        assertEquals(HEAD_DIM, h.headDim());
        assertEquals(FF, h.nFf());
        assertEquals(VOCAB.length, h.nVocab());
        assertEquals(8192, h.contextLength());
        assertEquals(1e-6f, h.rmsEps());
        assertEquals(50f, h.attnSoftcap());
        assertEquals(30f, h.finalSoftcap());
        assertEquals(4096, h.slidingWindow());
        assertEquals("llama", h.tokenizerModel());
        assertEquals(2 + 11 * LAYERS, h.tensorTypes().size());
        assertEquals(GgmlType.F32, h.tensorTypes().get("blk.1.ffn_down.weight"));
    }

    @Test
    void optionalKeysFallBackToLlamaCppDefaults() throws IOException {
        GgufBuilder b = toy(x -> x.kvs.removeIf(kv -> {
            String s = new String(kv, java.nio.charset.StandardCharsets.ISO_8859_1);
            return s.contains("softcapping") || s.contains("sliding_window");
        }));
        Gemma2Header h = header(write("defaults.gguf", b));
        assertEquals(50f, h.attnSoftcap());
        assertEquals(30f, h.finalSoftcap());
        assertEquals(4096, h.slidingWindow());
    }

    @Test
    void otherArchitectureIsRejectedNamingIt() throws IOException {
        GgufBuilder b = toy(x -> {});
        b.kvs.set(0, GgufBuilder.cat(GgufBuilder.str("general.architecture"), GgufBuilder.le(4).putInt(GgufBuilder.STRING).array(), GgufBuilder.str("llama")));
        Path p = write("llama.gguf", b);
        assertRejects(p, "general.architecture", "found 'llama'", () -> header(p));
    }

    @Test
    void hyperParameterWithWrongTypeIsRejected() throws IOException {
        GgufBuilder b = toy(x -> {});
        int idx = 3; // after architecture, context_length, embedding_length
        b.kvs.set(idx, GgufBuilder.cat(GgufBuilder.str("gemma2.block_count"), GgufBuilder.le(8).putInt(GgufBuilder.INT32).putInt(2).array()));
        Path p = write("i32.gguf", b);
        assertRejects(p, "gemma2.block_count", "expected UINT32 but the value is INT32", () -> header(p));
    }

    @Test
    void missingRequiredKeyIsNamed() throws IOException {
        GgufBuilder b = toy(x -> x.kvs.removeIf(kv -> new String(kv, java.nio.charset.StandardCharsets.ISO_8859_1).contains("layer_norm_rms_epsilon")));
        Path p = write("noeps.gguf", b);
        assertRejects(p, "gemma2.attention.layer_norm_rms_epsilon", "missing key", () -> header(p));
    }

    @Test
    void vocabularyThatDisagreesWithTokenEmbeddingIsRejected() throws IOException {
        GgufBuilder b = toy(x -> {});
        b.tensors.set(0, new GgufBuilder.T("token_embd.weight", GgmlType.F32.id, new long[] {EMBD, 6}, new byte[EMBD * 6 * 4]));
        Path p = write("vocab.gguf", b);
        assertRejects(p, "token_embd.weight", "tokenizer.ggml.tokens", () -> header(p));
    }

    @Test
    void missingLayerTensorIsNamed() throws IOException {
        GgufBuilder b = toy(x -> {});
        b.tensors.removeIf(t -> t.name.equals("blk.1.post_ffw_norm.weight"));
        Path p = write("missing.gguf", b);
        assertRejects(p, "blk.1.post_ffw_norm.weight", "missing tensor", () -> header(p));
    }

    @Test
    void wrongProjectionShapeIsRejected() throws IOException {
        GgufBuilder b = toy(x -> {});
        for (GgufBuilder.T t : b.tensors) {
            if (t.name.equals("blk.0.attn_k.weight")) t.ne = new long[] {EMBD, HEAD_DIM * HEADS};
            if (t.name.equals("blk.0.attn_k.weight")) t.data = new byte[EMBD * HEAD_DIM * HEADS * 4];
        }
        Path p = write("shape.gguf", b);
        assertRejects(p, "blk.0.attn_k.weight", "[8, 4]", () -> header(p));
    }
}
