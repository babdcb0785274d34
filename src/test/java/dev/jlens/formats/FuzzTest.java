package dev.jlens.formats;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded byte-flip fuzzing: a mutated file must either read or fail with FormatException, never
 * with an index/arithmetic/OOM error from inside a reader.
 */
class FuzzTest {
    private static final int ROUNDS = 400;

    @TempDir
    Path dir;

    @FunctionalInterface
    interface Open {
        void open(Path p) throws Exception;
    }

    private void fuzz(String name, byte[] valid, Open open) throws Exception {
        Random rnd = new Random(name.hashCode());
        Path p = dir.resolve(name);
        for (int round = 0; round < ROUNDS; round++) {
            byte[] b = valid.clone();
            int flips = 1 + rnd.nextInt(4);
            for (int k = 0; k < flips; k++) {
                int at = rnd.nextInt(b.length);
                b[at] = switch (rnd.nextInt(3)) {
                    case 0 -> (byte) rnd.nextInt(256);
                    case 1 -> (byte) 0xFF;
                    default -> (byte) (b[at] ^ (1 << rnd.nextInt(8)));
                };
            }
            Files.write(p, b);
            try {
                open.open(p);
            } catch (FormatException expected) {
                // the only acceptable failure
            } catch (Throwable t) {
                fail(name + " round " + round + ": expected FormatException or success but got " + t, t);
            }
        }
    }

    @Test
    void mutatedGgufFailsOnlyWithFormatException() throws Exception {
        fuzz("f.gguf", GgufCorruptionTest.valid().build(), p -> {
            try (GgufFile g = GgufFile.open(p)) {
                for (var t : g.tensors()) if (t.type() == GgmlType.F32 || t.type() == GgmlType.Q8_0) g.readF32(t);
                g.metadata().values().forEach(v -> { if (v instanceof List<?> l) l.forEach(x -> { }); });
            }
        });
    }

    @Test
    void mutatedNpzFailsOnlyWithFormatException() throws Exception {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("W", new Tensor("W", DType.F32, new long[] {2, 3}, MemorySegment.ofArray(NpyTest.floats(1, 2, 3, 4, 5, 6))));
        m.put("b", new Tensor("b", DType.F16, new long[] {2}, MemorySegment.ofArray(new byte[4])));
        Path src = dir.resolve("src.npz");
        NpzWriter.write(src, m);
        fuzz("f.npz", Files.readAllBytes(src), p -> {
            try (Arena a = Arena.ofConfined(); NpzFile f = Npz.open(p, a)) {
                f.members().values().forEach(Tensor::toFloatArray);
            }
        });
    }

    @Test
    void mutatedSafetensorsFailsOnlyWithFormatException() throws Exception {
        Path src = dir.resolve("src.safetensors");
        Safetensors.write(src, List.of(
                new Tensor("a", DType.F32, new long[] {2}, MemorySegment.ofArray(NpyTest.floats(1, 2))),
                new Tensor("b", DType.BF16, new long[] {1, 2}, MemorySegment.ofArray(new byte[4]))), Map.of("k", "v"));
        fuzz("f.safetensors", Files.readAllBytes(src), p -> {
            try (SafetensorsFile f = Safetensors.open(p)) {
                f.tensors().values().forEach(Tensor::toFloatArray);
            }
        });
    }

    @Test
    void mutatedNpyFailsOnlyWithFormatException() throws Exception {
        Path src = dir.resolve("src.npy");
        NpyWriter.write(src, DType.F32, new long[] {2, 3}, MemorySegment.ofArray(NpyTest.floats(1, 2, 3, 4, 5, 6)));
        fuzz("f.npy", Files.readAllBytes(src), p -> {
            try (Arena a = Arena.ofConfined()) {
                Npy.read(p, a).toFloatArray();
            }
        });
    }
}
