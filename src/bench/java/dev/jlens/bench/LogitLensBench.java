package dev.jlens.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jlens.atlas.LogitLens;
import dev.jlens.formats.GgufFile;
import dev.jlens.kernels.KernelProvider;
import dev.jlens.sae.Sae;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The logit lens's two paths on one model and SAE: ggml's mul_mat on the quantized token_embd
 * ({@link LogitLens#compute}) and the f32 dot products in Java ({@link LogitLens#computeF32}), timed on the same
 * features (0 .. features-1 of the SAE, every feature being a decoder row alike) and compared list by list.
 * Usage: {@code LogitLensBench model=M sae=S features=64 threads=2 [reference=true] out=R.json}.
 */
public final class LogitLensBench {
    private LogitLensBench() {}

    /** CPU time of the whole process (every thread, ggml's native ones included), in ns. */
    private static long cpu() throws java.io.IOException {
        String st = Files.readString(Path.of("/proc/self/stat"));
        String[] f = st.substring(st.lastIndexOf(')') + 2).split(" "); // fields from 3 (state) on
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L; // utime + stime, 100 ticks/s
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> kv = new HashMap<>();
        for (String a : args) {
            int i = a.indexOf('=');
            if (i < 0) throw new IllegalArgumentException("expected key=value, got " + a);
            kv.put(a.substring(0, i), a.substring(i + 1));
        }
        Path model = Path.of(kv.get("model")), out = Path.of(kv.get("out"));
        int features = Integer.parseInt(kv.getOrDefault("features", "64"));
        int threads = Integer.parseInt(kv.getOrDefault("threads", String.valueOf(Runtime.getRuntime().availableProcessors())));
        boolean reference = Boolean.parseBoolean(kv.getOrDefault("reference", "true"));
        Map<String, Object> res = new LinkedHashMap<>();
        try (GgufFile gguf = GgufFile.open(model); Sae sae = Sae.load(kv.get("sae"))) {
            LogitLens lens = new LogitLens(gguf, KernelProvider.best(), threads);
            int n = Math.min(features, sae.dSae());
            res.put("model", model.toString());
            res.put("token_embd_type", gguf.requireTensor("token_embd.weight").type().toString());
            res.put("vocab", lens.vocab());
            res.put("d_model", lens.dModel());
            res.put("features", n);
            res.put("threads", threads);
            res.put("load_start", Files.readString(Path.of("/proc/loadavg")).strip());
            long t0 = System.nanoTime(), c0 = cpu();
            List<LogitLens.Lists> got = lens.compute(n, sae::decoderRow, 10);
            double ggml = (System.nanoTime() - t0) / 1e9, ggmlCpu = (cpu() - c0) / 1e9;
            res.put("ggml_s", ggml);
            res.put("ggml_s_per_feature", ggml / n);
            res.put("ggml_cpu_s_per_feature", ggmlCpu / n);
            if (reference) {
                t0 = System.nanoTime();
                c0 = cpu();
                List<LogitLens.Lists> ref = lens.computeF32(n, sae::decoderRow, 10);
                double f32 = (System.nanoTime() - t0) / 1e9, f32Cpu = (cpu() - c0) / 1e9;
                res.put("f32_s", f32);
                res.put("f32_s_per_feature", f32 / n);
                res.put("f32_cpu_s_per_feature", f32Cpu / n);
                res.put("speedup_cpu", f32Cpu / ggmlCpu);
                int moved = 0, missing = 0, identical = 0;
                double worst = 0, worstMissingGap = 0;
                for (int f = 0; f < n; f++) {
                    boolean same = true;
                    for (int side = 0; side < 2; side++) {
                        List<LogitLens.Entry> r = side == 0 ? ref.get(f).positive() : ref.get(f).negative();
                        List<LogitLens.Entry> g = side == 0 ? got.get(f).positive() : got.get(f).negative();
                        double scale = Math.abs(r.get(0).value());
                        for (int i = 0; i < g.size(); i++) {
                            int tok = g.get(i).token();
                            float tokRef = r.stream().filter(e -> e.token() == tok).map(LogitLens.Entry::value).findFirst().orElse(Float.NaN);
                            if (!Float.isNaN(tokRef)) worst = Math.max(worst, Math.abs(g.get(i).value() - tokRef) / scale);
                            if (r.get(i).token() != tok) { moved++; same = false; }
                        }
                        for (LogitLens.Entry e : r) {
                            if (g.stream().noneMatch(x -> x.token() == e.token())) {
                                missing++;
                                worstMissingGap = Math.max(worstMissingGap, Math.abs(e.value() - g.get(g.size() - 1).value()) / scale);
                            }
                        }
                    }
                    if (same) identical++;
                }
                res.put("features_with_identical_lists", identical);
                res.put("positions_with_another_token", moved);
                res.put("positions", 20 * n);
                res.put("reference_tokens_missing", missing);
                res.put("missing_gap_rel_max", worstMissingGap);
                res.put("value_diff_rel_max", worst);
                res.put("speedup", f32 / ggml);
            }
            res.put("load_end", Files.readString(Path.of("/proc/loadavg")).strip());
        }
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.toFile(), res);
        System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(res));
    }
}
