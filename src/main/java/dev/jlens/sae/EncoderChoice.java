package dev.jlens.sae;

import dev.jlens.kernels.KernelProvider;
import dev.jlens.kernels.WeightFormat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Which SAE encoder {@code --encoder auto} runs on this machine, and why, so that outputs can record it.
 *
 * <p>The decision is a rule over what the machine offers, not a timing, so it is instant, and every executor of
 * a Spark job on the same kind of machine makes the same choice (the Spark job refuses executors that disagree):
 * <ol>
 *   <li>no Vector API module in the JVM: ggml (the JVM was started without
 *       {@code --add-modules jdk.incubator.vector});</li>
 *   <li>bf16 encoder weights and a CPU with {@code avx512_bf16}: ggml, whose CPU backend multiplies bf16 with the
 *       native bf16 dot-product instructions, where the Vector API (which has no bf16 arithmetic) widens every
 *       weight to f32 first; measured on an AVX-512-BF16 zen4 machine: ggml 299 vs Vector API 177 GFLOP/s;</li>
 *   <li>otherwise the Vector API encoder: in f32 it led ggml 1.32x on that zen4 machine, and on AVX2 it matches or
 *       beats ggml in both f32 and bf16 (docs/benchmarks.md: 1.01x-1.15x in alternating runs), while reading the
 *       memory-mapped weights in place where ggml keeps a transposed copy in native memory.</li>
 * </ol>
 * {@link #calibrate} times the two encoders against each other on the actual SAE, for checking the rule on a new
 * machine (scripts/bench.sh records both); it is not used by {@code auto}, whose choice must not depend on load.
 *
 * @param kind   the encoder: {@code vector}, {@code ggml}, {@code ggml-gpu} or {@code scalar}
 * @param reason why, in one sentence (recorded in atlas.json as {@code encoder_reason})
 */
public record EncoderChoice(String kind, String reason) {
    public EncoderChoice {
        if (!List.of("vector", "ggml", "ggml-gpu", "scalar").contains(kind)) throw new IllegalArgumentException("unknown encoder kind " + kind);
        if (reason == null || reason.isBlank()) throw new IllegalArgumentException("an encoder choice needs a reason");
    }

    /**
     * What the rule looks at.
     *
     * @param cpuFlags  the CPU's feature flags as /proc/cpuinfo names them (lower case), empty when unknown
     * @param vectorApi whether the Vector API kernels can run in this JVM
     */
    public record Machine(Set<String> cpuFlags, boolean vectorApi) {
        public Machine {
            cpuFlags = Set.copyOf(cpuFlags);
        }

        /** This JVM on this CPU. */
        public static Machine current() {
            return new Machine(cpuFlags(Path.of("/proc/cpuinfo")), KernelProvider.vector().isPresent());
        }

        /** The flags of the first processor in a /proc/cpuinfo file; empty when there is none (not Linux, or no x86 flags line). */
        static Set<String> cpuFlags(Path cpuinfo) {
            try {
                if (!Files.isReadable(cpuinfo)) return Set.of();
                for (String line : Files.readAllLines(cpuinfo)) {
                    if (line.startsWith("flags") && line.indexOf(':') > 0) {
                        return new TreeSet<>(Arrays.asList(line.substring(line.indexOf(':') + 1).strip().toLowerCase(Locale.ROOT).split("\\s+")));
                    }
                }
            } catch (IOException | RuntimeException e) {
                return Set.of();
            }
            return Set.of();
        }
    }

    /** The reason to record for an encoder of {@code actualKind} created for this choice (it differs when the chosen one could not run). */
    public String reasonFor(String actualKind) {
        return actualKind.equals(kind) ? reason : reason + "; " + kind + " could not run here, so " + actualKind;
    }

    /** The choice for {@code kind} ({@code auto} or an explicit encoder) on this machine. */
    public static EncoderChoice of(Sae sae, String kind) {
        return of(sae.wEnc().format(), kind, Machine.current());
    }

    /** The choice for encoder weights of {@code format} and {@code kind} on {@code machine}. */
    public static EncoderChoice of(WeightFormat format, String kind, Machine machine) {
        String k = kind.toLowerCase(Locale.ROOT);
        if (!k.equals("auto")) return new EncoderChoice(k, "asked for with --encoder " + k);
        if (!machine.vectorApi()) {
            return new EncoderChoice("ggml", "auto: the Vector API module is not in this JVM (run with --add-modules jdk.incubator.vector)");
        }
        if (format == WeightFormat.BF16 && machine.cpuFlags().contains("avx512_bf16")) {
            return new EncoderChoice("ggml", "auto: bf16 weights on a CPU with avx512_bf16: ggml's native bf16 dot products beat the Vector API, which widens bf16 to f32");
        }
        String why = format == WeightFormat.BF16 ? "bf16 weights without avx512_bf16" : "f32 weights";
        return new EncoderChoice("vector", "auto: " + why + ": the Vector API kernels match or beat ggml's CPU matmul and read the weights in place");
    }

    /**
     * Times the Vector API and ggml encoders of {@code sae} against each other: {@code pairs} alternating runs
     * (vector, ggml, ggml, vector, ...) on {@code tokens} rows of N(0, 1) input with {@code threads} threads
     * (0 = the encoders' default), after one warm-up run each.
     *
     * @return {@code kind} (the faster by median seconds), {@code vector_s}, {@code ggml_s} (medians) and the rule's
     *         choice for comparison ({@code rule})
     */
    public static Map<String, Object> calibrate(Sae sae, int tokens, int threads, int pairs) {
        if (tokens < 1 || pairs < 1) throw new IllegalArgumentException("calibration needs tokens >= 1 and pairs >= 1");
        float[] x = new float[tokens * sae.dIn()];
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < x.length; i++) x[i] = (float) gaussian(r);
        EncoderOptions o = threads > 0 ? EncoderOptions.defaults().withThreads(threads) : EncoderOptions.defaults();
        double[] v = new double[pairs], g = new double[pairs];
        try (SaeEncoder vec = new VectorSaeEncoder(sae, o); SaeEncoder gg = new GgmlSaeEncoder(sae, o, dev.jlens.llama.GgmlJumpRelu.Device.CPU)) {
            time(vec, x, tokens);
            time(gg, x, tokens);
            for (int p = 0; p < pairs; p++) {
                if (p % 2 == 0) {
                    v[p] = time(vec, x, tokens);
                    g[p] = time(gg, x, tokens);
                } else {
                    g[p] = time(gg, x, tokens);
                    v[p] = time(vec, x, tokens);
                }
            }
        }
        double mv = median(v), mg = median(g);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", mv <= mg ? "vector" : "ggml");
        m.put("vector_s", mv);
        m.put("ggml_s", mg);
        m.put("tokens", tokens);
        m.put("pairs", pairs);
        m.put("rule", of(sae, "auto").kind());
        return m;
    }

    private static double time(SaeEncoder e, float[] x, int tokens) {
        long t0 = System.nanoTime();
        SparseCodes c = e.encode(x, tokens);
        double s = (System.nanoTime() - t0) / 1e9;
        if (c.nTokens() != tokens) throw new IllegalStateException("encoded " + c.nTokens() + " rows of " + tokens);
        return s;
    }

    private static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble(), w = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
    }

    private static double median(double[] xs) {
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
