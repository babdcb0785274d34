package dev.jlens.fuzz;

import dev.jlens.formats.FormatException;
import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufFile;
import dev.jlens.formats.GgufMutator;
import dev.jlens.formats.GgufValueType;
import dev.jlens.formats.GgufWriter;
import dev.jlens.isolated.JavaProcess;
import dev.jlens.toy.Gemma2Config;
import dev.jlens.toy.ToyModels;
import dev.jlens.toy.Vocabulary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Differential fuzzing of the model check against llama.cpp itself (issue 17, point 1): mutates a valid toy gemma2
 * (keys of the schema set to edge values or the wrong type, keys removed, tensor types, names and shapes changed,
 * tokens emptied or duplicated, scores and token types corrupted), runs the Java check on each file, and hands
 * every file it ACCEPTS to llama.cpp in a child JVM (load, full-forward capture, logits). A native abort there is a
 * rule the schema lacks. Behind a flag, like the Jazzer runs:
 * <pre>
 * mvn test -Dtest=ModelDifferentialFuzzTest -Djlens.fuzz.models=2000 [-Djlens.fuzz.seed=1] -Djlens.build.dir=/tmp/jlens-fuzz
 * </pre>
 * The summary (tried, rejected, accepted, clean, native refusals, aborts) is printed and written to
 * {@code model-fuzz.txt} in the build folder; the test fails if any accepted file aborted llama.cpp or was refused
 * by it, and the recipe (seed, index, mutation) of each is printed, to become a row of BadModelTableTest.
 */
class ModelDifferentialFuzzTest {
    @TempDir Path dir;

    static final long[] U32 = {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 128, 255, 256, 511, 512, 513, 1023, 1024, 1025,
            4096, 65535, 65536, Integer.MAX_VALUE, 1L << 31, 0xFFFF_FFFFL};
    static final float[] F32 = {0f, -0f, 1f, -1f, 0.5f, 2f, 1e-30f, 1e-6f, 0.999f, 1e4f, 1e30f, Float.MAX_VALUE, Float.MIN_VALUE,
            Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    static final String[] STR = {"", "none", "linear", "yarn", "longrope", "llama", "gemma2", "bogus", "default", "\u2581"};

    /** The 1024-token tiny gemma2 (14 layers, d=64): small enough that loading it hundreds of times is quick. */
    static Path base(Path dir) throws IOException {
        Path p = dir.resolve("base.gguf");
        var words = List.of("the", "capital", "of", "France", "is", "Paris", "hello", "world", "cat", "dog");
        var cfg = Gemma2Config.tiny().withNVocab(1024);
        var vocab = Vocabulary.build(words, cfg.nVocab());
        ToyModels.write(p, cfg, vocab, ToyModels.generate(cfg, vocab, 1234), GgmlType.F32);
        return p;
    }

    /** Applies 1-3 random mutations to {@code m}; returns what was done, e.g. "set gemma2.block_count=UINT32:15". */
    static String mutate(GgufMutator m, SplittableRandom r) {
        List<String> done = new ArrayList<>();
        Map<String, GgufValueType> schema = GgufMutator.gemma2Schema();
        List<String> keys = new ArrayList<>(schema.keySet());
        int n = 1 + r.nextInt(3);
        for (int k = 0; k < n; k++) {
            try {
                mutateOnce(m, r, schema, keys, done);
            } catch (IllegalArgumentException | ClassCastException gone) {
                // an earlier mutation removed or retyped what this one edits: skip it
            }
        }
        return String.join("; ", done);
    }

    private static void mutateOnce(GgufMutator m, SplittableRandom r, Map<String, GgufValueType> schema, List<String> keys, List<String> done) {
        {
            switch (r.nextInt(9)) {
                case 0, 1, 2 -> { // a schema key set to an edge value of its own type
                    String key = keys.get(r.nextInt(keys.size()));
                    done.add("set " + key + "=" + setValue(m, key, schema.get(key), r));
                }
                case 3 -> { // a schema key of another type
                    String key = keys.get(r.nextInt(keys.size()));
                    GgufValueType t = GgufValueType.values()[r.nextInt(GgufValueType.values().length)];
                    done.add("set " + key + "=" + setValue(m, key, t, r));
                }
                case 4 -> {
                    List<String> present = m.keys();
                    String key = present.get(r.nextInt(present.size()));
                    m.remove(key);
                    done.add("remove " + key);
                }
                case 5 -> { // a tensor of another ggml type (only types whose block divides the row)
                    List<String> ts = m.tensorNames();
                    String t = ts.get(r.nextInt(ts.size()));
                    long ne0 = m.tensorNe(t)[0];
                    List<GgmlType> ok = new ArrayList<>();
                    for (GgmlType g : GgmlType.values()) if (ne0 % g.blockSize == 0) ok.add(g);
                    GgmlType g = ok.get(r.nextInt(ok.size()));
                    m.tensorType(t, g);
                    done.add("type " + t + "=" + g);
                }
                case 6 -> { // a tensor removed, renamed or added
                    List<String> ts = m.tensorNames();
                    String t = ts.get(r.nextInt(ts.size()));
                    switch (r.nextInt(3)) {
                        case 0 -> { m.removeTensor(t); done.add("drop " + t); }
                        case 1 -> {
                            String to = t.replaceFirst("blk\\.(\\d+)\\.", "blk." + r.nextInt(20) + ".");
                            if (!m.tensorNames().contains(to)) { m.renameTensor(t, to); done.add("rename " + t + "->" + to); }
                        }
                        default -> {
                            String name = "blk." + (14 + r.nextInt(3)) + ".attn_norm.weight";
                            if (!m.tensorNames().contains(name)) { m.addTensor(name, GgmlType.F32, 64); done.add("add " + name); }
                        }
                    }
                }
                case 7 -> { // token strings
                    String[] tok = (String[]) m.arrayValue("tokenizer.ggml.tokens");
                    int i = r.nextInt(tok.length);
                    switch (r.nextInt(4)) {
                        case 0 -> { tok[i] = ""; done.add("token " + i + " empty"); }
                        case 1 -> { tok[i] = tok[r.nextInt(tok.length)]; done.add("token " + i + " duplicated"); }
                        case 2 -> { tok[i] = "[EMPTY_" + r.nextInt(tok.length) + "]"; done.add("token " + i + " [EMPTY_n]"); }
                        default -> { tok[i] = "<0x" + String.format("%02X", r.nextInt(256)) + ">"; done.add("token " + i + " byte"); }
                    }
                    m.array("tokenizer.ggml.tokens", GgufWriter.ValueType.STRING, tok);
                }
                default -> { // scores and token types
                    if (r.nextBoolean()) {
                        float[] s = (float[]) m.arrayValue("tokenizer.ggml.scores");
                        int i = r.nextInt(s.length);
                        s[i] = F32[r.nextInt(F32.length)];
                        m.array("tokenizer.ggml.scores", GgufWriter.ValueType.FLOAT32, s);
                        done.add("score " + i + "=" + s[i]);
                    } else {
                        int[] t = (int[]) m.arrayValue("tokenizer.ggml.token_type");
                        int i = r.nextInt(t.length);
                        t[i] = r.nextInt(10) - 2;
                        m.array("tokenizer.ggml.token_type", GgufWriter.ValueType.INT32, t);
                        done.add("token_type " + i + "=" + t[i]);
                    }
                }
            }
        }
    }

    private static String setValue(GgufMutator m, String key, GgufValueType t, SplittableRandom r) {
        switch (t) {
            case UINT32 -> { long v = U32[r.nextInt(U32.length)]; m.u32(key, v); return "UINT32:" + v; }
            case INT32 -> { int v = (int) U32[r.nextInt(U32.length)]; m.i32(key, v); return "INT32:" + v; }
            case FLOAT32 -> { float v = F32[r.nextInt(F32.length)]; m.f32(key, v); return "FLOAT32:" + v; }
            case FLOAT64 -> { double v = F32[r.nextInt(F32.length)]; m.f64(key, v); return "FLOAT64:" + v; }
            case BOOL -> { boolean v = r.nextBoolean(); m.bool(key, v); return "BOOL:" + v; }
            case STRING -> { String v = STR[r.nextInt(STR.length)]; m.string(key, v); return "STRING:'" + v + "'"; }
            case ARRAY -> {
                int len = r.nextBoolean() ? 1024 : (int) U32[r.nextInt(12)];
                m.array(key, GgufWriter.ValueType.INT32, new int[len]);
                return "ARRAY<INT32>[" + len + "]";
            }
            default -> { long v = U32[r.nextInt(U32.length)]; m.array(key, GgufWriter.ValueType.UINT32, new int[] {(int) v}); return "ARRAY<UINT32>{" + v + "}"; }
        }
    }

    record Outcome(int index, String recipe, String result) {}

    @Test
    void acceptedMutantsNeverAbortLlamaCpp() throws Exception {
        int n = Integer.getInteger("jlens.fuzz.models", 0);
        assumeTrue(n > 0, "set -Djlens.fuzz.models=N to run the differential model campaign");
        long seed = Long.getLong("jlens.fuzz.seed", 1);
        Path base = base(dir);
        long t0 = System.nanoTime();
        int rejected = 0, unwritable = 0;
        Map<String, Integer> rejectedBy = new TreeMap<>();
        List<String> accepted = new ArrayList<>(), recipes = new ArrayList<>();
        List<String> checkCrashes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            GgufMutator m = GgufMutator.read(base);
            String recipe = mutate(m, new SplittableRandom(seed * 1_000_003L + i));
            Path f = dir.resolve("m" + i + ".gguf");
            try {
                m.write(f);
            } catch (IllegalArgumentException | IllegalStateException e) {
                unwritable++;
                continue;
            }
            try (GgufFile g = GgufFile.open(f)) {
                g.requireGemma2();
                accepted.add(f.toString());
                recipes.add("seed " + seed + " #" + i + ": " + recipe);
            } catch (FormatException e) {
                rejected++;
                rejectedBy.merge(e.field().replaceAll("\\[\\d+]|\\d+", "N"), 1, Integer::sum);
                Files.delete(f);
            } catch (RuntimeException e) {
                checkCrashes.add("seed " + seed + " #" + i + ": " + recipe + " -> " + e);
            }
        }
        double checkS = (System.nanoTime() - t0) / 1e9;
        List<Outcome> outcomes = runAccepted(accepted, recipes);
        int clean = 0, nonFinite = 0, nanLogits = 0;
        List<Outcome> aborts = new ArrayList<>(), refusals = new ArrayList<>();
        for (Outcome o : outcomes) {
            if (o.result().startsWith("OK")) clean++;
            else if (o.result().startsWith("NAN")) nanLogits++;
            else if (o.result().contains("NonFiniteActivationsException")) nonFinite++;
            else if (o.result().startsWith("ERR")) refusals.add(o);
            else aborts.add(o);
        }
        StringBuilder report = new StringBuilder();
        report.append(String.format("model differential fuzz, seed %d: %d mutants tried (%d unwritable), %d rejected by the Java check, %d accepted "
                        + "(check %.1f s, llama.cpp %.1f s)%n", seed, n, unwritable, rejected, accepted.size(), checkS, (System.nanoTime() - t0) / 1e9 - checkS));
        report.append(String.format("  accepted: %d clean, %d non-finite activations (exit 2), %d NaN logits, %d refused by llama.cpp (exit 1), %d ABORTS%n",
                clean, nonFinite, nanLogits, refusals.size(), aborts.size()));
        report.append("  rejected by field: ").append(rejectedBy).append('\n');
        for (Outcome o : aborts) report.append("  ABORT ").append(o.recipe()).append(" -> ").append(o.result()).append('\n');
        for (Outcome o : refusals) report.append("  refused ").append(o.recipe()).append(" -> ").append(o.result()).append('\n');
        for (String c : checkCrashes) report.append("  CHECK CRASH ").append(c).append('\n');
        System.out.print(report);
        Files.writeString(Path.of(System.getProperty("jlens.build.dir", "target"), "model-fuzz.txt"), report);
        assertEquals(List.of(), checkCrashes, "the Java check threw something other than FormatException");
        assertEquals(List.of(), aborts.stream().map(Outcome::recipe).toList(), "accepted files that abort llama.cpp: new schema rules needed");
        assertEquals(List.of(), refusals.stream().map(Outcome::recipe).toList(), "accepted files llama.cpp refuses (exit 1, reason only in its log)");
    }

    /**
     * The normal test run replays the campaign's generator on the Java side (no llama.cpp): 150 mutants of seed 1, each
     * either accepted or rejected with a FormatException naming the file, never any other exception.
     */
    @Test
    void theJavaCheckAnswersEveryMutantWithAcceptOrAFormatException() throws Exception {
        Path base = base(dir);
        int rejected = 0;
        for (int i = 0; i < 150; i++) {
            GgufMutator m = GgufMutator.read(base);
            String recipe = mutate(m, new SplittableRandom(1_000_003L + i));
            Path f = dir.resolve("r" + i + ".gguf");
            try {
                m.write(f);
            } catch (IllegalArgumentException | IllegalStateException e) {
                continue;
            }
            try (GgufFile g = GgufFile.open(f)) {
                g.requireGemma2();
            } catch (FormatException e) {
                rejected++;
                assertEquals(f, e.file(), recipe);
            } catch (RuntimeException e) {
                throw new AssertionError("#" + i + " " + recipe + ": the Java check threw " + e, e);
            }
            Files.delete(f);
        }
        assertTrue(rejected > 50, "most mutants are rejected: " + rejected);
    }

    /** Runs the accepted files through child JVMs, restarting after each abort at the next file. */
    private List<Outcome> runAccepted(List<String> files, List<String> recipes) throws Exception {
        List<Outcome> out = new ArrayList<>();
        if (files.isEmpty()) return out;
        Path list = Files.write(dir.resolve("accepted.txt"), files);
        int next = 0;
        while (next < files.size()) {
            Path err = dir.resolve("child.err");
            Process p = JavaProcess.builder(ModelFuzzChildMain.class.getName(), List.of(list.toString(), Integer.toString(next)))
                    .redirectError(err.toFile()).start();
            // a hang is a finding too: the watchdog kills a child that runs past 10 minutes (exit 137)
            Thread watchdog = Thread.ofVirtual().start(() -> {
                try {
                    if (!p.waitFor(10, TimeUnit.MINUTES)) p.destroyForcibly();
                } catch (InterruptedException e) {
                    p.destroyForcibly();
                }
            });
            Map<Integer, String> results = new LinkedHashMap<>();
            int started = -1;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (!line.matches("(START|OK|NAN|ERR) \\d+.*")) continue;
                    String[] f = line.split(" ", 3);
                    int i = Integer.parseInt(f[1]);
                    if (f[0].equals("START")) started = i;
                    else results.put(i, line);
                }
            }
            p.waitFor();
            watchdog.join();
            results.forEach((i, line) -> out.add(new Outcome(i, recipes.get(i), line)));
            if (started >= 0 && !results.containsKey(started)) {
                String tail = Files.readString(err);
                tail = tail.substring(Math.max(0, tail.length() - 300)).replace('\n', ' ');
                out.add(new Outcome(started, recipes.get(started), "exit " + p.exitValue() + ": " + tail));
                next = started + 1;
            } else {
                next = files.size();
            }
        }
        return out;
    }
}
