package dev.jlens.reliability;

import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufMutator;
import dev.jlens.formats.GgufWriter;
import dev.jlens.isolated.IsolatedCapture;
import dev.jlens.isolated.JavaProcess;
import dev.jlens.llama.Context;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Model files that pass GGUF parsing but that llama.cpp aborts on, crashes on, rejects only in its native log, or
 * turns into NaN (issue 17, points 1, 3, 4, 5): each is the tiny toy gemma2 with one change, and `jlens capture` on
 * it, in a child JVM, must exit 2 with a message naming the file, the key or tensor, and the value; leave no
 * hs_err file (no native crash) and no output folder. The first row is the unchanged file, which must be captured.
 */
class BadModelTableTest {
    @TempDir static Path dir;
    static Path tiny, prompts;
    /** Tokens in the tiny model's vocabulary (15296: the shipped prompt words); ids from here on are out of range. */
    static int nVocab;
    static final String P = "gemma2.";

    @BeforeAll
    static void files() throws IOException {
        tiny = GgufMutator.writeTiny(dir.resolve("tiny.gguf"));
        nVocab = ((String[]) GgufMutator.read(tiny).arrayValue("tokenizer.ggml.tokens")).length;
        prompts = Files.writeString(dir.resolve("prompts.txt"), "The capital of France is Paris.\nA cat sat on the mat.\n");
    }

    private static Arguments c(String name, Consumer<GgufMutator> change, String field, String value) {
        return Arguments.of(name, change, field, value);
    }

    private static float[] floats(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    static Stream<Arguments> badModels() {
        return Stream.of(
                // point 1: llama.cpp aborts (GGML_ASSERT) or crashes
                c("rope_dim_odd", m -> m.u32(P + "rope.dimension_count", 15), P + "rope.dimension_count", "15"),
                c("rope_dim_above_head", m -> m.u32(P + "rope.dimension_count", 64), P + "rope.dimension_count", "64"),
                c("rope_dim_zero", m -> m.u32(P + "rope.dimension_count", 0), P + "rope.dimension_count", "0"),
                c("rope_dim_swa_odd", m -> m.u32(P + "rope.dimension_count_swa", 15), P + "rope.dimension_count_swa", "15"),
                c("duplicate_token", m -> {
                    String[] t = (String[]) m.arrayValue("tokenizer.ggml.tokens");
                    t[200] = t[100];
                    m.array("tokenizer.ggml.tokens", GgufWriter.ValueType.STRING, t);
                }, "tokenizer.ggml.tokens[200]", "duplicates token 100"),
                c("norm_f16", m -> m.tensorType("blk.0.attn_norm.weight", GgmlType.F16), "blk.0.attn_norm.weight", "F16"),
                c("norm_bf16", m -> m.tensorType("output_norm.weight", GgmlType.BF16), "output_norm.weight", "BF16"),
                c("norm_q8_0", m -> m.tensorType("blk.3.post_ffw_norm.weight", GgmlType.Q8_0), "blk.3.post_ffw_norm.weight", "Q8_0"),
                c("attn_q_i32", m -> m.tensorType("blk.0.attn_q.weight", GgmlType.I32), "blk.0.attn_q.weight", "I32"),
                c("attn_q_f64", m -> m.tensorType("blk.5.attn_q.weight", GgmlType.F64), "blk.5.attn_q.weight", "F64"),
                c("token_embd_i8", m -> m.tensorType("token_embd.weight", GgmlType.I8), "token_embd.weight", "I8"),
                c("ffn_down_q8_1", m -> m.tensorType("blk.1.ffn_down.weight", GgmlType.Q8_1), "blk.1.ffn_down.weight", "Q8_1"),
                c("value_length_8", m -> m.u32(P + "attention.value_length", 8), P + "attention.value_length", "8"),
                c("key_length_swa", m -> m.u32(P + "attention.key_length_swa", 8), P + "attention.key_length_swa", "8"),
                c("rope_scaling_bogus", m -> m.string(P + "rope.scaling.type", "bogus"), P + "rope.scaling.type", "'bogus'"),
                c("experts_4_used_8", m -> m.u32(P + "expert_count", 4).u32(P + "expert_used_count", 8), P + "expert_count", "4"),
                c("experts_used_without_count", m -> m.u32(P + "expert_used_count", 8), P + "expert_used_count", "8"),
                c("head_count_kv_3", m -> m.u32(P + "attention.head_count_kv", 3), P + "attention.head_count_kv", "3"),
                c("block_count_0", m -> m.u32(P + "block_count", 0), P + "block_count", "0"),
                c("block_count_513", m -> m.u32(P + "block_count", 513), P + "block_count", "513"),
                c("context_length_0", m -> m.u32(P + "context_length", 0), P + "context_length", "0"),
                c("sliding_window_0", m -> m.u32(P + "attention.sliding_window", 0), P + "attention.sliding_window", "0"),
                c("not_causal", m -> m.bool(P + "attention.causal", false), P + "attention.causal", "false"),
                // point 3: silent NaN from the header
                c("attn_softcap_0", m -> m.f32(P + "attn_logit_softcapping", 0f), P + "attn_logit_softcapping", "0.0"),
                c("final_softcap_negative", m -> m.f32(P + "final_logit_softcapping", -1f), P + "final_logit_softcapping", "-1.0"),
                c("freq_base_0", m -> m.f32(P + "rope.freq_base", 0f), P + "rope.freq_base", "0.0"),
                c("freq_base_nan", m -> m.f32(P + "rope.freq_base", Float.NaN), P + "rope.freq_base", "NaN"),
                c("freq_base_negative", m -> m.f32(P + "rope.freq_base", -10000f), P + "rope.freq_base", "-10000.0"),
                c("freq_base_swa_inf", m -> m.f32(P + "rope.freq_base_swa", Float.POSITIVE_INFINITY), P + "rope.freq_base_swa", "Infinity"),
                c("rms_eps_nan", m -> m.f32(P + "attention.layer_norm_rms_epsilon", Float.NaN), P + "attention.layer_norm_rms_epsilon", "NaN"),
                c("rms_eps_f64", m -> m.f64(P + "attention.layer_norm_rms_epsilon", 1e-6), P + "attention.layer_norm_rms_epsilon", "FLOAT64"),
                c("rms_eps_missing", m -> m.remove(P + "attention.layer_norm_rms_epsilon"), P + "attention.layer_norm_rms_epsilon", "missing key"),
                // point 4: special-token ids
                c("bos_out_of_range", m -> m.u32("tokenizer.ggml.bos_token_id", 99999), "tokenizer.ggml.bos_token_id", "99999"),
                c("eos_out_of_range", m -> m.u32("tokenizer.ggml.eos_token_id", nVocab), "tokenizer.ggml.eos_token_id", "token id " + nVocab),
                c("unk_out_of_range", m -> m.u32("tokenizer.ggml.unknown_token_id", 4_000_000_000L), "tokenizer.ggml.unknown_token_id", "4000000000"),
                c("pad_out_of_range", m -> m.u32("tokenizer.ggml.padding_token_id", 70000), "tokenizer.ggml.padding_token_id", "70000"),
                c("bos_wrong_type", m -> m.i32("tokenizer.ggml.bos_token_id", 2), "tokenizer.ggml.bos_token_id", "INT32"),
                // point 5: llama.cpp refuses these, but only its native log said why (exit 1, no file named)
                c("block_count_4_of_14", m -> m.u32(P + "block_count", 4), "blk.4.", "block_count is 4"),
                c("block_count_20_of_14", m -> m.u32(P + "block_count", 20), "blk.14.attn_norm.weight", "missing tensor"),
                c("extra_output_tensor", m -> m.addTensor("output.weight", GgmlType.F32, 64, 512), "output.weight", "unexpected tensor"),
                c("tokenizer_bogus", m -> m.string("tokenizer.ggml.model", "bogus"), "tokenizer.ggml.model", "'bogus'"),
                c("tokenizer_gpt2", m -> m.string("tokenizer.ggml.model", "gpt2"), "tokenizer.ggml.model", "'gpt2'"),
                c("scores_short", m -> m.array("tokenizer.ggml.scores", GgufWriter.ValueType.FLOAT32, floats(nVocab - 1, 0f)), "tokenizer.ggml.scores", (nVocab - 1) + " scores for " + nVocab),
                c("scores_long", m -> m.array("tokenizer.ggml.scores", GgufWriter.ValueType.FLOAT32, floats(nVocab + 9, 0f)), "tokenizer.ggml.scores", (nVocab + 9) + " scores for " + nVocab),
                c("scores_strings", m -> m.array("tokenizer.ggml.scores", GgufWriter.ValueType.STRING,
                        Stream.generate(() -> "x").limit(nVocab).toArray(String[]::new)), "tokenizer.ggml.scores", "STRING"),
                c("scores_f64", m -> m.array("tokenizer.ggml.scores", GgufWriter.ValueType.FLOAT64, new double[nVocab]), "tokenizer.ggml.scores", "FLOAT64"),
                c("scores_nan", m -> {
                    float[] s = (float[]) m.arrayValue("tokenizer.ggml.scores");
                    s[7] = Float.NaN;
                    m.array("tokenizer.ggml.scores", GgufWriter.ValueType.FLOAT32, s);
                }, "tokenizer.ggml.scores[7]", "NaN"),
                c("token_type_short", m -> m.array("tokenizer.ggml.token_type", GgufWriter.ValueType.INT32, new int[3]), "tokenizer.ggml.token_type", "3 token types"),
                c("token_type_99", m -> {
                    int[] t = (int[]) m.arrayValue("tokenizer.ggml.token_type");
                    t[9] = 99;
                    m.array("tokenizer.ggml.token_type", GgufWriter.ValueType.INT32, t);
                }, "tokenizer.ggml.token_type[9]", "99"),
                // found by ModelDifferentialFuzzTest (seed 2, #1739): llama.cpp refused the file, exit 1
                c("byte_type_on_a_word", m -> {
                    int[] t = (int[]) m.arrayValue("tokenizer.ggml.token_type");
                    t[308] = 6;
                    m.array("tokenizer.ggml.token_type", GgufWriter.ValueType.INT32, t);
                }, "tokenizer.ggml.token_type[308]", "not spelled <0xHH>"));
    }

    record Run(int code, String stderr, List<String> cwdFiles) {}

    /** `jlens capture` on {@code model} in a child JVM whose working directory is {@code cwd} (where an hs_err file would land). */
    static Run capture(Path model, Path cwd, Path out) throws IOException, InterruptedException {
        Files.createDirectories(cwd);
        Path err = cwd.resolve("stderr.txt");
        Process p = JavaProcess.builder("dev.jlens.cli.Main", List.of("capture", "--model", model.toString(), "--prompts", prompts.toString(),
                        "--out", out.toString(), "--layer", "3", "--ctx", "128", "--ubatch", "32", "--threads", "2"))
                .directory(cwd.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail("capture of " + model + " did not end within 120 s");
        }
        try (var s = Files.list(cwd)) {
            return new Run(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8),
                    s.map(f -> f.getFileName().toString()).filter(n -> !n.equals("stderr.txt")).sorted().toList());
        }
    }

    @Test
    void theUnchangedFileIsCaptured() throws Exception {
        Path out = dir.resolve("good-out");
        Path model = GgufMutator.read(tiny).write(dir.resolve("rewritten.gguf")); // the mutator's round trip changes nothing llama.cpp sees
        Run r = capture(model, dir.resolve("good"), out);
        assertEquals(0, r.code(), r.stderr());
        assertTrue(Files.isRegularFile(out.resolve("activations.npy")));
        assertEquals(List.of(), r.cwdFiles());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badModels")
    void badModelExitsTwoNamingTheFieldAndValueWithoutANativeCrash(String name, Consumer<GgufMutator> change, String field, String value)
            throws Exception {
        GgufMutator m = GgufMutator.read(tiny);
        change.accept(m);
        Path model = m.write(dir.resolve(name + ".gguf"));
        Path out = dir.resolve(name + "-out");
        Run r = capture(model, dir.resolve(name), out);
        String first = r.stderr().lines().filter(l -> l.startsWith("jlens:")).findFirst().orElse(r.stderr());
        assertEquals(2, r.code(), "exit code; stderr: " + r.stderr());
        assertTrue(first.contains(model.toString()), "names the file: " + first);
        assertTrue(first.contains(field), "names '" + field + "': " + first);
        assertTrue(first.contains(value), "names the value '" + value + "': " + first);
        assertEquals(List.of(), r.cwdFiles(), "no hs_err or core file");
        assertFalse(Files.exists(out), "no output folder");
    }

    @Test
    void ropeDimension15InTheIsolatedWorkerEndsWithTheKeyNamed() throws Exception {
        Path model = GgufMutator.read(tiny).u32(P + "rope.dimension_count", 15).write(dir.resolve("iso-rope15.gguf"));
        Path out = dir.resolve("iso-out");
        long t0 = System.nanoTime();
        var e = assertThrows(IllegalArgumentException.class, () -> IsolatedCapture.run(model, List.of("The capital of France is Paris."), 3, out,
                Context.Params.defaults().withCtx(128).withUbatch(32).withThreads(4), 0, new IsolatedCapture.Options(java.time.Duration.ofMinutes(2), false)));
        assertTrue(e.getMessage().contains(P + "rope.dimension_count") && e.getMessage().contains("15"), e.getMessage());
        assertFalse(Files.exists(out));
        try (var s = Files.list(dir)) {
            assertEquals(List.of(), s.map(f -> f.getFileName().toString()).filter(n -> n.contains(".isolated-")).toList());
        }
        System.out.printf("isolated worker on rope.dimension_count 15: exit 2 after %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }
}
