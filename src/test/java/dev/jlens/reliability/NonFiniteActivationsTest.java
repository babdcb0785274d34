package dev.jlens.reliability;

import dev.jlens.formats.GgufMutator;
import dev.jlens.isolated.JavaProcess;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.llama.NonFiniteActivationsException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A model whose header is fine but whose weights make the forward pass non-finite (a NaN weight, infinite
 * embeddings, a 1e30 norm weight) used to be captured with exit 0 and 100% NaN activations. Now the capture fails
 * as bad input: exit 2 naming the model, and no activations file.
 */
class NonFiniteActivationsTest {
    @TempDir static Path dir;
    static Path tiny, prompts;

    @BeforeAll
    static void files() throws IOException {
        tiny = GgufMutator.writeTiny(dir.resolve("tiny.gguf"));
        prompts = Files.writeString(dir.resolve("prompts.txt"), "The capital of France is Paris.\nA cat sat on the mat.\n");
    }

    /** The tiny model with every F32 element of {@code tensor} for which {@code every} divides its index set to {@code value}. */
    static Path withValues(String name, String tensor, float value, int every) throws IOException {
        GgufMutator m = GgufMutator.read(tiny);
        ByteBuffer b = ByteBuffer.wrap(m.tensorData(tensor)).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < b.capacity() / 4; i += every) b.putFloat(4 * i, value);
        return m.tensorData(tensor, b.array()).write(dir.resolve(name + ".gguf"));
    }

    static Path model(String kind) throws IOException {
        return switch (kind) {
            case "nan_weight" -> withValues(kind, "blk.1.ffn_up.weight", Float.NaN, 1000);
            case "inf_embedding" -> withValues(kind, "token_embd.weight", Float.POSITIVE_INFINITY, 1);
            case "huge_norm" -> withValues(kind, "blk.0.ffn_norm.weight", 1e30f, 1);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"nan_weight", "inf_embedding", "huge_norm"})
    void captureOfANonFiniteModelExitsTwoNamingTheModelAndWritesNothing(String kind) throws Exception {
        Path model = model(kind);
        Path out = dir.resolve(kind + "-out"), cwd = Files.createDirectories(dir.resolve(kind + "-cwd"));
        Path err = cwd.resolve("stderr.txt");
        Process p = JavaProcess.builder("dev.jlens.cli.Main", List.of("capture", "--model", model.toString(), "--prompts", prompts.toString(),
                        "--out", out.toString(), "--layer", "3", "--ctx", "128", "--ubatch", "32", "--threads", "2"))
                .directory(cwd.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "capture ended");
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        assertEquals(2, p.exitValue(), stderr);
        assertTrue(stderr.contains(model.toString()) && stderr.contains("non-finite"), stderr);
        assertFalse(Files.exists(out.resolve("activations.npy")), "no activations written");
        assertFalse(Files.exists(out), "no output folder left behind");
    }

    @Test
    void theApiThrowsATypedExceptionWithTheLayerAndPosition() throws Exception {
        Path model = model("nan_weight");
        try (Model m = Model.load(model); Context c = m.newContext(Context.Params.defaults().withCtx(128).withUbatch(32).withThreads(2))) {
            int[] toks = m.vocab().tokenize("The capital of France is Paris.");
            var e = assertThrows(NonFiniteActivationsException.class, () -> c.capture(List.of(toks), Context.CaptureSpec.layer(3)));
            assertEquals(model, e.model());
            assertEquals(3, e.layer());
            assertTrue(e.getMessage().contains("layer 3") && e.getMessage().contains("prompt 0"), e.getMessage());
            // the same context still captures layer 0, which the NaN in block 1 does not reach
            try (var a = c.capture(List.of(toks), Context.CaptureSpec.layer(0))) {
                assertEquals(toks.length, a.rows());
            }
        }
    }
}
