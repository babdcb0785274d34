package dev.jlens.fuzz;

import dev.jlens.analysis.PromptSet;
import dev.jlens.formats.FormatException;
import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufFile;
import dev.jlens.formats.Npy;
import dev.jlens.formats.Npz;
import dev.jlens.formats.NpzFile;
import dev.jlens.formats.Safetensors;
import dev.jlens.formats.SafetensorsFile;
import dev.jlens.formats.Tensor;
import dev.jlens.sae.SaeConfig;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The readers' contract on arbitrary bytes: a file either opens (and every view it hands out can be
 * read end to end) or is rejected with {@link FormatException} (config: also the documented
 * IllegalArgumentException). Anything else, including OutOfMemoryError, an input slower than
 * {@link #MAX_MILLIS}, or views adding up to more bytes than the file has, is a contract violation
 * reported as an AssertionError naming the target, the file and the size.
 */
final class ReaderContract {
    /** Per-input time bound; overridable because an instrumented (fuzzing) JVM is slower. */
    static final long MAX_MILLIS = Long.getLong("jlens.fuzz.maxMillis", 1000);

    enum Target {
        NPY(".npy"), NPZ(".npz"), SAFETENSORS(".safetensors"), GGUF(".gguf"),
        PROMPTS_JSONL(".jsonl"), PROMPTS_TXT(".txt"), SAE_CONFIG(".json");

        final String extension;

        Target(String extension) {
            this.extension = extension;
        }
    }

    enum Result { OPENED, REJECTED }

    /** Types the GGUF reader dequantises; readF32 on others is a documented FormatException. */
    private static final Set<GgmlType> DEQUANTISED = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0);

    private ReaderContract() {}

    /** Writes {@code bytes} to a file named for the target in {@code dir} and checks the contract on it. */
    static Result check(Target target, byte[] bytes, Path dir) throws IOException {
        Path file = dir.resolve("input" + target.extension);
        Files.write(file, bytes);
        return check(target, file);
    }

    static Result check(Target target, Path file) throws IOException {
        // the first input per target and JVM also pays for class loading and Jackson's setup: run it
        // once untimed, then time the repeat, so the bound measures the reader and not the JVM
        if (WARM.add(target)) check(target, file, Long.MAX_VALUE);
        try {
            return check(target, file, MAX_MILLIS);
        } catch (Slow firstTime) {
            // a one-off JVM cost (first log record, deoptimisation, GC) is not the reader's: a slow
            // input is a violation only when the repeat is slow too
            return check(target, file, MAX_MILLIS);
        }
    }

    /** Over the time bound: an AssertionError, typed so that {@link #check(Target, Path)} can retry once. */
    static final class Slow extends AssertionError {
        Slow(String message) {
            super(message);
        }
    }

    private static final Set<Target> WARM = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private static Result check(Target target, Path file, long maxMillis) throws IOException {
        long size = Files.size(file);
        long t0 = System.nanoTime();
        long viewed;
        Result result;
        try {
            viewed = open(target, file);
            result = Result.OPENED;
        } catch (FormatException expected) {
            viewed = 0;
            result = Result.REJECTED;
        } catch (IllegalArgumentException e) {
            if (target != Target.SAE_CONFIG) throw violation(target, file, size, e);
            viewed = 0;
            result = Result.REJECTED;
        } catch (Throwable t) {
            throw violation(target, file, size, t);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        if (ms > maxMillis) throw new Slow(target + " took " + ms + " ms (limit " + maxMillis + ") on " + file + " (" + size + " bytes)");
        if (viewed > size) throw new AssertionError(target + " handed out views of " + viewed + " bytes from a file of " + size + ": " + file);
        return result;
    }

    private static AssertionError violation(Target target, Path file, long size, Throwable t) {
        return new AssertionError(target + " on " + file + " (" + size + " bytes): expected success or FormatException but got " + t, t);
    }

    /** Opens {@code file} and reads everything it exposes; returns the bytes of all data views. */
    static long open(Target target, Path file) throws IOException {
        return switch (target) {
            case NPY -> {
                try (Arena arena = Arena.ofConfined()) {
                    yield touch(Npy.read(file, arena));
                }
            }
            case NPZ -> {
                try (Arena arena = Arena.ofConfined(); NpzFile npz = Npz.open(file, arena)) {
                    yield touchAll(npz.members());
                }
            }
            case SAFETENSORS -> {
                try (SafetensorsFile st = Safetensors.open(file)) {
                    st.metadata().forEach((k, v) -> { if (k == null || v == null) throw new AssertionError("null metadata"); });
                    yield touchAll(st.tensors());
                }
            }
            case GGUF -> {
                try (GgufFile g = GgufFile.open(file)) {
                    yield touch(g);
                }
            }
            case PROMPTS_JSONL, PROMPTS_TXT -> {
                PromptSet set = PromptSet.load(file);
                if (set.size() == 0) throw new AssertionError("empty PromptSet returned");
                yield 0;
            }
            case SAE_CONFIG -> {
                SaeConfig cfg = SaeConfig.read(file);
                if (cfg == null) throw new AssertionError("SaeConfig.read returned null instead of a config or a FormatException");
                yield 0;
            }
        };
    }

    private static long touchAll(Map<String, Tensor> tensors) {
        long sum = 0;
        for (Tensor t : tensors.values()) sum += touch(t);
        return sum;
    }

    /** Reads every element, so a view that lies outside its mapping fails here rather than later. */
    private static long touch(Tensor t) {
        double acc = 0;
        for (long i = 0, n = t.elementCount(); i < n; i++) acc += t.get(i);
        if (acc == 42.4242) throw new AssertionError("unreachable; keeps the loop alive");
        return t.data().byteSize();
    }

    private static long touch(GgufFile g) throws FormatException {
        for (Object v : g.metadata().values()) {
            if (v instanceof List<?> l) for (Object x : l) if (x == null) throw new AssertionError("null array element");
        }
        long sum = 0;
        for (GgufFile.TensorInfo t : g.tensors()) {
            sum += g.data(t).byteSize();
            if (DEQUANTISED.contains(t.type())) g.readF32(t);
        }
        try {
            g.requireGemma2();
        } catch (FormatException notGemma2) {
            // opened fine; it just is not a gemma2 model llama.cpp could load
        }
        return sum;
    }
}
