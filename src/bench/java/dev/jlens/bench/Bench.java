package dev.jlens.bench;

import dev.jlens.activations.CaptureSource;

import dev.jlens.formats.AtomicFiles;
import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.study.ConceptExperiment;
import dev.jlens.study.ExperimentConfig;
import dev.jlens.util.Json;
import dev.jlens.util.Progress;
import dev.jlens.toy.ToyModelJob;
import dev.jlens.sae.EncoderOptions;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SparseCodes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Benchmark driver run by scripts/bench.sh, one measurement per JVM: {@code Bench <what> key=value...}.
 * Each writes a JSON object of raw timings and derived rates to {@code out=}; {@link BenchReport} turns
 * the folder of those into docs/benchmarks.md. Kinds: peak, capture, overhead, encode, e2e, report.
 */
public final class Bench {
    private Bench() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) throw new IllegalArgumentException("usage: Bench peak|capture|overhead|encode|e2e|report key=value...");
        Map<String, String> kv = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("expected key=value, got '" + args[i] + "'");
            kv.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        Args a = new Args(kv);
        if (args[0].equals("report")) {
            BenchReport.write(a.path("results"), a.path("out"));
            return;
        }
        if (args[0].equals("report-atlas")) {
            AtlasBench.writeReport(a.path("results"), a.path("out"));
            return;
        }
        if (args[0].equals("report-gpu")) {
            BenchReport.writeGpu(a.path("results"), a.path("out"));
            return;
        }
        Map<String, Object> r = switch (args[0]) {
            case "peak" -> peak(a.integer("threads"), a.integer("runs"), a.longer("iterations", 50_000_000L));
            case "capture" -> capture(a.path("model"), a.integer("prompts"), a.integer("words", 11), a.integer("threads"),
                    a.integer("runs"), a.integer("ubatch", 512), a.integer("layer", 12), Boolean.parseBoolean(kv.getOrDefault("gpu", "false")));
            case "overhead" -> overhead(a.path("model"), a.integer("tokens"), a.integer("threads"), a.integer("runs"), a.integer("layer", 12));
            case "encode" -> encode(a.path("sae"), dev.jlens.api.EncoderKind.parse(a.text("kind")), a.integer("tokens"), a.integer("threads"), a.integer("runs"),
                    a.integer("tile", EncoderOptions.defaults().tileWidth()));
            case "e2e" -> e2e(a.path("model"), a.text("coarse"), a.text("fine"), a.integer("limit", 200), a.integer("repeat", 1),
                    a.integer("threads"), a.path("work"), a.integer("permutations", 1000));
            case "encode-ab" -> encodeAb(a.path("sae"), a.integer("tokens"), a.integer("threads"), a.integer("runs"));
            case "model-sae" -> modelSae(a.path("model"), a.integer("layer", 12), a.integer("d_sae"), a.integer("l0", 80),
                    a.integer("prompts", 64), a.integer("threads"), a.path("npz"));
            case "atlas-corpus" -> AtlasBench.corpus(a.path("corpus"), a.longer("words", 100_000L));
            case "atlas" -> AtlasBench.run(a.path("model"), a.text("sae"), a.path("corpus"), a.longer("tokens", 0L), a.integer("threads"),
                    a.integer("shard", 8), Boolean.parseBoolean(kv.getOrDefault("baseline", "true")), a.integer("lens", 64),
                    dev.jlens.api.EncoderKind.parse(kv.getOrDefault("encoder", "auto")), a.path("work"));
            case "atlas-memory" -> AtlasBench.memory(a.integer("d_sae", 262_144));
            case "encoder-calibrate" -> {
                try (dev.jlens.sae.Sae sae = dev.jlens.sae.Sae.load(a.text("sae"))) {
                    yield new LinkedHashMap<>(dev.jlens.sae.EncoderChoice.calibrate(sae, a.integer("tokens", 256), a.integer("threads"), a.integer("pairs", 5)));
                }
            }
            default -> throw new IllegalArgumentException("unknown benchmark '" + args[0] + "'");
        };
        r.put("label", kv.getOrDefault("label", args[0]));
        Json.write(a.path("out"), r);
    }

    /** FMA peak: one warm-up, then {@code runs} timed runs on {@code threads} threads and on one. */
    public static Map<String, Object> peak(int threads, int runs, long iterations) {
        FmaPeak.gflops(threads, iterations / 10); // JIT warm-up
        double[] all = new double[runs], one = new double[runs];
        for (int i = 0; i < runs; i++) {
            all[i] = FmaPeak.gflops(threads, iterations);
            one[i] = FmaPeak.gflops(1, iterations);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("threads", threads);
        r.put("lanes", FmaPeak.lanes());
        r.put("gflops_runs", all);
        r.put("gflops", median(all));
        r.put("gflops_one_thread", median(one));
        return r;
    }

    /** Short random prompts of {@code words} words from the shipped prompt vocabulary (seeded). */
    static List<int[]> prompts(Model m, int n, int words) throws IOException {
        List<String> vocab = ToyModelJob.promptWords();
        SplittableRandom r = new SplittableRandom(42);
        List<int[]> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < words; w++) sb.append(w == 0 ? "" : " ").append(vocab.get(r.nextInt(vocab.size())));
            out.add(m.vocab().tokenize(sb.toString()));
        }
        return out;
    }

    /**
     * Early-exit capture of one batch of {@code n} short prompts: tokens/s through the captured layer. With
     * {@code gpu}, blocks 0..layer are offloaded to the GPU ({@link Model.Params#captureOnGpu}).
     */
    public static Map<String, Object> capture(Path model, int n, int words, int threads, int runs, int ubatch, int layer, boolean gpu)
            throws IOException {
        if (gpu && dev.jlens.llama.Backends.gpus().isEmpty()) throw new IllegalStateException("gpu=true, but this llama.cpp build has no GPU device");
        try (Model m = gpu ? Model.load(model, Model.Params.captureOnGpu(layer)) : Model.load(model)) {
            List<int[]> ps = prompts(m, n, words);
            int tokens = 0;
            for (int[] p : ps) tokens += p.length;
            int ctxSize = Math.max(16, tokens);
            Context.CaptureSpec spec = Context.CaptureSpec.layer(layer);
            double[] secs = new double[runs];
            try (Context ctx = m.newContext(Context.Params.defaults().withCtx(ctxSize).withUbatch(Math.min(ubatch, ctxSize))
                    .withSeqMax(Math.min(256, n)).withThreads(threads))) {
                timeCapture(ctx, ps, spec); // warm-up: page in the weights, size the scheduler
                for (int i = 0; i < runs; i++) secs[i] = timeCapture(ctx, ps, spec);
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("model", model.toString());
            r.put("prompts", n);
            r.put("tokens", tokens);
            r.put("threads", threads);
            r.put("ubatch", Math.min(ubatch, ctxSize));
            r.put("device", gpu ? dev.jlens.llama.Backends.gpus().get(0).description() : "CPU");
            r.put("layer", layer);
            r.put("n_layer", m.nLayer());
            r.put("seconds_runs", secs);
            r.put("seconds", median(secs));
            r.put("tokens_per_s", tokens / median(secs));
            r.putAll(flops(m, layer));
            return r;
        }
    }

    /** One capture of all of {@code ps} through the one capture path ({@link CaptureSource}), timed. */
    private static double timeCapture(Context ctx, List<int[]> ps, Context.CaptureSpec spec) {
        long t0 = System.nanoTime();
        try (Activations a = new CaptureSource(ctx, spec).captureAll(ps)) {
            return (System.nanoTime() - t0) / 1e9;
        }
    }

    /** Matmul FLOPs per token: through {@code layer} (inclusive) and for the whole forward (layers + lm_head). */
    static Map<String, Object> flops(Model m, int layer) {
        long d = m.nEmbd();
        long headDim = Long.parseLong(m.meta("gemma2.attention.key_length"));
        long ff = Long.parseLong(m.meta("gemma2.feed_forward_length"));
        long perLayer = 2 * (d * headDim * m.nHead() * 2 + d * headDim * m.nHeadKv() * 2 + 3 * d * ff);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("flop_per_token_layer", perLayer);
        r.put("flop_per_token_early_exit", perLayer * (layer + 1));
        r.put("flop_per_token_full", perLayer * m.nLayer());
        r.put("flop_lm_head_per_output", 2 * d * m.vocab().size());
        return r;
    }

    /**
     * Callback cost on one prompt of {@code tokens} tokens, runs interleaved so load drift hits all alike:
     * full forward without the eval callback (tap=false), with it installed but idle (every node is
     * asked and declines), full forward capturing {@code layer}, and early-exit capture at {@code layer}.
     */
    public static Map<String, Object> overhead(Path model, int tokens, int threads, int runs, int layer) throws IOException {
        try (Model m = Model.load(model)) {
            int[] prompt = longPrompt(m, tokens);
            Context.Params base = Context.Params.defaults().withCtx(Math.max(16, tokens)).withUbatch(Math.min(512, Math.max(16, tokens)))
                    .withSeqMax(1).withThreads(threads);
            double[] off = new double[runs], idle = new double[runs], full = new double[runs], early = new double[runs];
            try (Context noTap = m.newContext(base.withTap(false)); Context tap = m.newContext(base.withTap(true))) {
                Context.CaptureSpec fullSpec = new Context.CaptureSpec(new int[] {layer}, false);
                Context.CaptureSpec earlySpec = Context.CaptureSpec.layer(layer);
                List<int[]> one = List.of(prompt);
                noTap.nextTokenLogits(prompt);
                tap.nextTokenLogits(prompt);
                timeCapture(tap, one, fullSpec);
                for (int i = 0; i < runs; i++) {
                    off[i] = timeLogits(noTap, prompt);
                    idle[i] = timeLogits(tap, prompt);
                    full[i] = timeCapture(tap, one, fullSpec);
                    early[i] = timeCapture(tap, one, earlySpec);
                }
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("tokens", prompt.length);
            r.put("threads", threads);
            r.put("layer", layer);
            r.put("n_layer", m.nLayer());
            r.put("no_callback_runs", off);
            r.put("idle_callback_runs", idle);
            r.put("full_capture_runs", full);
            r.put("early_exit_runs", early);
            r.put("no_callback_s", median(off));
            r.put("idle_callback_s", median(idle));
            r.put("full_capture_s", median(full));
            r.put("early_exit_s", median(early));
            r.put("idle_overhead_pct", 100 * (median(idle) / median(off) - 1));
            r.put("capture_overhead_pct", 100 * (median(full) / median(off) - 1));
            r.put("early_exit_speedup", median(full) / median(early));
            r.putAll(flops(m, layer));
            return r;
        }
    }

    private static int[] longPrompt(Model m, int tokens) throws IOException {
        List<int[]> ws = prompts(m, tokens, 1);
        int[] p = new int[tokens];
        p[0] = m.vocab().bos();
        int k = 1;
        for (int[] w : ws) {
            for (int j = 1; j < w.length && k < tokens; j++) p[k++] = w[j]; // skip each word's BOS
            if (k == tokens) break;
        }
        if (k < tokens) throw new IllegalStateException("could not build a " + tokens + "-token prompt (got " + k + ")");
        return p;
    }

    private static double timeLogits(Context ctx, int[] prompt) {
        long t0 = System.nanoTime();
        float[] logits = ctx.nextTokenLogits(prompt);
        double s = (System.nanoTime() - t0) / 1e9;
        if (logits.length == 0) throw new IllegalStateException("no logits");
        return s;
    }

    /** SAE encode of {@code tokens} N(0,1) tokens: GFLOP/s counting 2 x tokens x d_in x d_sae. */
    public static Map<String, Object> encode(Path saePath, dev.jlens.api.EncoderKind kind, int tokens, int threads, int runs, int tile) throws IOException {
        try (Sae sae = Sae.load(saePath.toString());
             SaeEncoder enc = sae.encoder(kind, EncoderOptions.defaults().withThreads(threads).withTile(tile))) {
            float[] x = gaussianTokens(tokens, sae.dIn());
            SparseCodes warm = enc.encode(x, tokens); // pages the weights in, builds graphs/tiles
            double[] secs = new double[runs];
            for (int i = 0; i < runs; i++) secs[i] = timeEncode(enc, x, tokens);
            double flop = 2.0 * tokens * sae.dIn() * sae.dSae();
            Map<String, Object> res = encodeRun(saePath, sae, tokens, threads);
            res.put("kind", kind.toString());
            res.put("backend", enc instanceof dev.jlens.sae.GgmlSaeEncoder g ? g.backend() : "java");
            res.put("tile", tile);
            res.put("mean_l0", (double) warm.nnz() / tokens);
            res.put("seconds_runs", secs);
            res.put("seconds", median(secs));
            res.put("gflops", flop / median(secs) / 1e9);
            res.put("weight_bytes", (long) sae.dIn() * sae.dSae() * sae.wEnc().format().bytes);
            return res;
        }
    }

    /** The fields every encode result starts with: which SAE, its shape and weight format, tokens and threads. */
    static Map<String, Object> encodeRun(Path saePath, Sae sae, int tokens, int threads) {
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("sae", saePath.toString());
        res.put("weights", sae.wEnc().format().name());
        res.put("d_in", sae.dIn());
        res.put("d_sae", sae.dSae());
        res.put("tokens", tokens);
        res.put("threads", threads);
        return res;
    }

    /**
     * Vector API vs ggml encoder on the same SAE and tokens, alternating in one JVM (vector, ggml, ggml, vector, ...)
     * so that drift of a shared machine hits both alike; the ratio is the median of the per-pair ratios. Separate
     * runs of the two kinds minutes apart differed by up to 15% on the 2-core benchmark machine.
     */
    public static Map<String, Object> encodeAb(Path saePath, int tokens, int threads, int runs) throws IOException {
        try (Sae sae = Sae.load(saePath.toString());
             SaeEncoder vec = sae.encoder(dev.jlens.api.EncoderKind.VECTOR, EncoderOptions.defaults().withThreads(threads));
             SaeEncoder ggml = sae.encoder(dev.jlens.api.EncoderKind.GGML, EncoderOptions.defaults().withThreads(threads))) {
            float[] x = gaussianTokens(tokens, sae.dIn());
            long nnzV = vec.encode(x, tokens).nnz(), nnzG = ggml.encode(x, tokens).nnz(); // warm-up: pages, graphs, tiles
            double[] v = new double[runs], g = new double[runs], ratio = new double[runs];
            for (int i = 0; i < runs; i++) {
                boolean vectorFirst = i % 2 == 0;
                double a = timeEncode(vectorFirst ? vec : ggml, x, tokens), b = timeEncode(vectorFirst ? ggml : vec, x, tokens);
                v[i] = vectorFirst ? a : b;
                g[i] = vectorFirst ? b : a;
                ratio[i] = g[i] / v[i]; // > 1: the vector encoder is faster
            }
            double flop = 2.0 * tokens * sae.dIn() * sae.dSae();
            Map<String, Object> res = encodeRun(saePath, sae, tokens, threads);
            res.put("vector_seconds_runs", v);
            res.put("ggml_seconds_runs", g);
            res.put("vector_gflops", flop / median(v) / 1e9);
            res.put("ggml_gflops", flop / median(g) / 1e9);
            res.put("pair_ratios", ratio);
            res.put("vector_vs_ggml", median(ratio));
            res.put("mean_l0_vector", (double) nnzV / tokens);
            res.put("mean_l0_ggml", (double) nnzG / tokens);
            return res;
        }
    }

    /** {@code tokens} rows of N(0, 1) values, the same for every encode benchmark (seed 7). */
    private static float[] gaussianTokens(int tokens, int dIn) {
        float[] x = new float[tokens * dIn];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    private static double timeEncode(SaeEncoder enc, float[] x, int tokens) {
        long t0 = System.nanoTime();
        SparseCodes c = enc.encode(x, tokens);
        double s = (System.nanoTime() - t0) / 1e9;
        if (c.nTokens() != tokens) throw new IllegalStateException("encoder returned " + c.nTokens() + " tokens, want " + tokens);
        return s;
    }

    /**
     * A toy SAE calibrated to the model's own residual stream, as a trained SAE is: the layer's activations of
     * the first {@code prompts}/2 shipped France and neutral prompts are captured, their per-element standard
     * deviation (BOS rows excluded, as the statistics exclude them) sets the toy's input scale, and the realised
     * mean L0 on those same rows is measured after writing. A toy calibrated to N(0, 1) inputs instead fires on
     * ~180k of 262k features per prompt on this model (its layer-12 residual has a standard deviation of ~5.3),
     * which made the experiment benchmark measure a table no real SAE produces.
     */
    public static Map<String, Object> modelSae(Path model, int layer, int dSae, int l0, int prompts, int threads, Path npz) throws IOException {
        List<int[]> ps = new ArrayList<>();
        double sum = 0, sumSq = 0;
        long n = 0;
        float[] rows;
        int dIn, nRows = 0;
        try (Model m = Model.load(model)) {
            for (String set : List.of("france", "neutral")) {
                var texts = dev.jlens.analysis.PromptSet.builtin(set).prompts();
                for (int i = 0; i < Math.min(prompts / 2, texts.size()); i++) ps.add(m.vocab().tokenize(texts.get(i).text()));
            }
            int tokens = 0;
            for (int[] p : ps) tokens += p.length;
            dIn = m.nEmbd();
            try (Context ctx = m.newContext(Context.Params.defaults().withCtx(Math.max(16, tokens)).withUbatch(Math.min(512, Math.max(16, tokens)))
                         .withSeqMax(Math.min(256, ps.size())).withThreads(threads));
                 Activations a = new CaptureSource(ctx, layer).captureAll(ps)) {
                rows = new float[a.rows() * dIn];
                for (int r = 0; r < a.rows(); r++) {
                    if (a.positionOf(r) == 0) continue; // BOS
                    float[] row = a.row(layer, r);
                    System.arraycopy(row, 0, rows, nRows * dIn, dIn);
                    nRows++;
                    for (float v : row) { sum += v; sumSq += (double) v * v; n++; }
                }
            }
        }
        double mean = sum / n, std = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
        dev.jlens.sae.ToySae.builder(dIn, dSae, 1).inputStd((float) std).targetL0(l0).layer(layer).writeGemmaScopeNpz(npz);
        double realised;
        try (Sae sae = Sae.load(npz.toString());
             SaeEncoder enc = sae.encoder(dev.jlens.api.EncoderKind.VECTOR, EncoderOptions.defaults().withThreads(threads))) {
            realised = (double) enc.encode(Arrays.copyOf(rows, nRows * dIn), nRows).nnz() / nRows;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", model.toString());
        r.put("layer", layer);
        r.put("d_sae", dSae);
        r.put("npz", npz.toString());
        r.put("calibration_prompts", ps.size());
        r.put("calibration_rows", nRows);
        r.put("input_std", std);
        r.put("target_l0", l0);
        r.put("realised_mean_l0", realised);
        return r;
    }

    /**
     * The France experiment end to end in this JVM on the first {@code limit} prompts of each shipped set,
     * each set repeated {@code repeat} times, with a fresh activation cache; reports stage seconds and
     * peak RSS (VmHWM) of this process, read at the end.
     */
    public static Map<String, Object> e2e(Path model, String coarse, String fine, int limit, int repeat, int threads, Path work,
                                          int permutations) throws IOException {
        Files.createDirectories(work);
        Path target = work.resolve("target.jsonl"), control = work.resolve("control.jsonl");
        int nT = writePrompts("france", limit, repeat, target), nC = writePrompts("neutral", limit, repeat, control);
        Path cache = work.resolve("cache");
        deleteTree(cache); // a fresh cache: the capture must really run
        ExperimentConfig cfg = new ExperimentConfig(model, coarse, fine, work.resolve("run"), dev.jlens.api.Experiment.Settings.builder()
                .targetPrompts(target).controlPrompts(control).permutations(permutations).threads(threads).cacheDir(cache).build());
        long t0 = System.nanoTime();
        ConceptExperiment.Outcome o = ConceptExperiment.run(cfg, Progress.NONE);
        double total = (System.nanoTime() - t0) / 1e9;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("model", model.toString());
        r.put("coarse", coarse);
        r.put("fine", fine);
        r.put("prompts", nT + nC);
        r.put("threads", threads);
        r.put("total_s", total);
        r.put("stage_seconds", o.stageSeconds());
        r.put("decision", o.result().verdict().decision());
        r.putAll(procStatus());
        deleteTree(cache);
        return r;
    }

    private static int writePrompts(String set, int limit, int repeat, Path out) throws IOException {
        List<String> lines = new ArrayList<>();
        try (InputStream in = Bench.class.getResourceAsStream("/dev/jlens/prompts/" + set + ".jsonl")) {
            if (in == null) throw new IOException("built-in prompt set missing from classpath: " + set);
            for (String l : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) if (!l.isBlank()) lines.add(l);
        }
        List<String> head = lines.subList(0, Math.min(limit, lines.size()));
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < repeat; k++) for (String l : head) sb.append(l).append('\n');
        AtomicFiles.writeString(out, sb.toString());
        return head.size() * repeat;
    }

    /** VmHWM, VmRSS, RssAnon, RssFile of this process in KiB (Linux). */
    static Map<String, Object> procStatus() throws IOException {
        Map<String, Object> r = new LinkedHashMap<>();
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            for (String k : new String[] {"VmHWM", "VmRSS", "RssAnon", "RssFile"}) {
                if (l.startsWith(k + ":")) r.put(k + "_kib", Long.parseLong(l.substring(k.length() + 1).replace("kB", "").trim()));
            }
        }
        if (!r.containsKey("VmHWM_kib")) throw new IOException("/proc/self/status has no VmHWM");
        return r;
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }

    static double median(double[] xs) {
        if (xs.length == 0) throw new IllegalArgumentException("no samples");
        double[] s = xs.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private record Args(Map<String, String> kv) {
        String text(String k) {
            String v = kv.get(k);
            if (v == null || v.isEmpty()) throw new IllegalArgumentException("missing " + k + "=");
            return v;
        }

        Path path(String k) { return Path.of(text(k)); }

        int integer(String k) {
            try {
                return Integer.parseInt(text(k));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(k + " must be an integer, got '" + kv.get(k) + "'");
            }
        }

        int integer(String k, int dflt) { return kv.containsKey(k) ? integer(k) : dflt; }

        long longer(String k, long dflt) {
            if (!kv.containsKey(k)) return dflt;
            try {
                return Long.parseLong(text(k));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(k + " must be an integer, got '" + kv.get(k) + "'");
            }
        }
    }
}
