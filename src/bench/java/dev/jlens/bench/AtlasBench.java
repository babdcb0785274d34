package dev.jlens.bench;

import dev.jlens.activations.CaptureSource;
import dev.jlens.api.EncoderKind;

import dev.jlens.atlas.AtlasContext;
import dev.jlens.atlas.AtlasEngine;
import dev.jlens.atlas.AtlasSettings;
import dev.jlens.atlas.ContextSource;
import dev.jlens.atlas.CorpusSource;
import dev.jlens.atlas.FeatureStats;
import dev.jlens.atlas.LogitLens;
import dev.jlens.atlas.ShardCodes;
import dev.jlens.atlas.ShardWork;
import dev.jlens.atlas.SpooledCorpus;
import dev.jlens.atlas.WindowRequests;
import dev.jlens.atlas.corpus.CorpusFormat;
import dev.jlens.atlas.corpus.CorpusSpec;
import dev.jlens.formats.GgufFile;
import dev.jlens.kernels.KernelProvider;
import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.sae.EncoderChoice;
import dev.jlens.sae.Sae;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The feature atlas's costs next to the model's: the statistics pass over a corpus, shard by shard, alternating in
 * one JVM with a capture-only pass over the very same decode batches (so drift of a shared machine hits both
 * alike), then the example windows from the spilled codes, and the logit lens timed on a sample of the fired
 * features. The process's peak RSS at the end covers all of it, for the memory-vs-corpus-size curve.
 */
final class AtlasBench {
    private AtlasBench() {}

    /** A deterministic corpus of about {@code words} pseudo-words, 20 to 180 per line (the toy models' text does not matter). */
    static Map<String, Object> corpus(Path out, long words) throws IOException {
        String[] syll = {"ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "pe", "da", "gu", "ri", "zo", "be", "fa", "the", "an", "or", "in", "es"};
        SplittableRandom r = new SplittableRandom(19);
        long n = 0, lines = 0;
        Files.createDirectories(out.toAbsolutePath().getParent());
        try (BufferedWriter w = Files.newBufferedWriter(out)) {
            while (n < words) {
                int len = 20 + r.nextInt(161);
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < len; i++) {
                    if (i > 0) b.append(' ');
                    int s = 1 + r.nextInt(3);
                    for (int k = 0; k < s; k++) b.append(syll[r.nextInt(syll.length)]);
                    if (r.nextInt(12) == 0) b.append(r.nextBoolean() ? "," : ".");
                }
                w.write(b.toString());
                w.newLine();
                n += len;
                lines++;
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("words", n);
        m.put("lines", lines);
        m.put("bytes", Files.size(out));
        return m;
    }

    /**
     * @param baseline whether to time capture-only over the same batches, alternating with the statistics shard by shard
     * @param lensSample fired features the logit lens is timed on (its cost is linear in the fired features)
     */
    static Map<String, Object> run(Path modelPath, String saeId, Path corpus, long maxTokens, int threads, int shardContexts,
                                   boolean baseline, int lensSample, EncoderKind encoder, Path work) throws IOException {
        Files.createDirectories(work);
        AtlasSettings s = AtlasSettings.defaults(12, threads).withBatching(512, shardContexts).withEncoder(encoder);
        Map<String, Object> res = new LinkedHashMap<>();
        res.put("load_start", Files.readString(Path.of("/proc/loadavg")).strip());
        try (Model model = Model.load(modelPath); Sae sae = Sae.load(saeId)) {
            sae.validateFor(model.nEmbd());
            CorpusSpec spec = new CorpusSpec(corpus.toString(), CorpusFormat.LINES, "text", false, s.contextLength(), maxTokens);
            long t0 = System.nanoTime();
            SpooledCorpus spooled = SpooledCorpus.spool(new CorpusSource(spec, CorpusSource.tokenizer(model.vocab()), model.vocab().bos(), work),
                    work.resolve("contexts.bin"), s);
            res.put("spool_s", (System.nanoTime() - t0) / 1e9);
            res.put("contexts", spooled.contexts());
            res.put("tokens", spooled.tokens());
            EncoderChoice choice = EncoderChoice.of(sae, encoder.toString());
            res.put("encoder", choice.kind());
            res.put("encoder_reason", choice.reason());
            FeatureStats total = new FeatureStats(sae.dSae(), s.topK(), s.sampleSize());
            List<Double> capS = new ArrayList<>(), atlasS = new ArrayList<>();
            List<Long> shardTokens = new ArrayList<>();
            int nShards = 0;
            try (ShardWork w = new ShardWork(model, List.of(sae), s);
                 Context cap = baseline ? model.newContext(Context.Params.defaults().withCtx(s.batchTokens()).withUbatch(Math.min(s.batchTokens(), 4096))
                         .withSeqMax(Math.min(AtlasSettings.MAX_BATCH_CONTEXTS, s.batchTokens())).withThreads(threads)) : null;
                 ContextSource.Pass pass = spooled.open()) {
                for (List<AtlasContext> sh = AtlasEngine.nextShard(pass, s); !sh.isEmpty(); sh = AtlasEngine.nextShard(pass, s), nShards++) {
                    int shard = nShards;
                    long tok = 0;
                    for (AtlasContext c : sh) tok += c.tokens().length;
                    shardTokens.add(tok);
                    double c = -1, a;
                    if (baseline && shard % 2 == 0) c = captureOnly(cap, sh, s);
                    long a0 = System.nanoTime();
                    // what AtlasEngine does per shard: statistics, spilled codes, checkpoint, merge
                    ShardCodes.Writer spill = new ShardCodes.Writer(1);
                    List<FeatureStats> part = w.scan(sh, spill);
                    spill.write(work.resolve(String.format("codes-%06d.bin", shard)), shard);
                    AtlasEngine.writePartial(work.resolve(String.format("shard-%06d.bin", shard)), shard, sh, part);
                    total.merge(part.get(0));
                    a = (System.nanoTime() - a0) / 1e9;
                    if (baseline && shard % 2 == 1) c = captureOnly(cap, sh, s);
                    atlasS.add(a);
                    if (baseline) capS.add(c);
                    System.err.printf("atlas bench: shard %d, %d tokens: atlas %.2f s%s%n", shard, tok, a, baseline ? String.format(", capture-only %.2f s", c) : "");
                }
            }
            double atlasTotal = atlasS.stream().mapToDouble(Double::doubleValue).sum();
            long tokens = spooled.tokens();
            res.put("shards", nShards);
            res.put("shard_contexts", shardContexts);
            res.put("atlas_shard_s", atlasS);
            res.put("atlas_s", atlasTotal);
            res.put("atlas_tokens_per_s", tokens / atlasTotal);
            if (baseline) {
                double capTotal = capS.stream().mapToDouble(Double::doubleValue).sum();
                double[] ratios = new double[nShards];
                for (int i = 0; i < nShards; i++) ratios[i] = capS.get(i) / atlasS.get(i);
                res.put("capture_shard_s", capS);
                res.put("capture_s", capTotal);
                res.put("capture_tokens_per_s", tokens / capTotal);
                res.put("atlas_vs_capture", capTotal / atlasTotal);
                res.put("atlas_vs_capture_median_pair", Bench.median(ratios));
            }
            res.put("fired_features", total.firedFeatures().length);
            if (baseline) res.put("breakdown_first_shard", breakdown(model, sae, spooled, s, threads, encoder, work));

            long w0 = System.nanoTime();
            WindowRequests req = WindowRequests.of(List.of(total), s);
            WindowRequests.Results windows = new WindowRequests.Results(1);
            try (ContextSource.Pass pass = spooled.open()) {
                int shard = 0;
                for (List<AtlasContext> sh = AtlasEngine.nextShard(pass, s); !sh.isEmpty(); sh = AtlasEngine.nextShard(pass, s), shard++) {
                    WindowRequests.Results r = ShardCodes.windows(work.resolve(String.format("codes-%06d.bin", shard)), shard, sh, req, s);
                    if (r == null) throw new IllegalStateException("spilled codes of shard " + shard + " unreadable");
                    windows.putAll(r);
                }
            }
            res.put("windows_s", (System.nanoTime() - w0) / 1e9);
            res.put("window_contexts", req.contexts());

            int[] fired = total.firedFeatures();
            int n = Math.min(lensSample, fired.length);
            if (n > 0) {
                try (GgufFile gguf = GgufFile.open(modelPath)) {
                    LogitLens lens = new LogitLens(gguf, KernelProvider.best(), threads);
                    long l0 = System.nanoTime();
                    lens.compute(n, k -> sae.decoderRow(fired[k]), s.logitTokens());
                    double ls = (System.nanoTime() - l0) / 1e9;
                    res.put("logit_lens_sample", n);
                    res.put("logit_lens_sample_s", ls);
                    res.put("logit_lens_vocab", lens.vocab());
                    res.put("logit_lens_all_fired_s_estimate", ls / n * fired.length);
                }
            }
            res.put("threads", threads);
            res.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
            res.putAll(Bench.procStatus());
            res.put("load_end", Files.readString(Path.of("/proc/loadavg")).strip());
        }
        return res;
    }

    /**
     * The accumulators of a {@code dSae}-feature SAE in the worst case (every feature fired, every top-20 and
     * sample-64 slot full, whatever the corpus size), as heap growth after a full GC.
     */
    static Map<String, Object> memory(int dSae) {
        long before = usedAfterGc();
        FeatureStats st = new FeatureStats(dSae, 20, 64);
        for (long ctx = 0; ctx < 64; ctx++) {
            for (int f = 0; f < dSae; f++) st.fire(f, 1f + ctx + f % 7);
            for (int f = 0; f < dSae; f++) st.contextMax(f, ctx, 1, 1f + ctx + f % 7);
            st.addContext(1);
        }
        long used = usedAfterGc() - before;
        if (st.firedFeatures().length != dSae || st.top(dSae - 1).size() != 20 || st.sample(dSae - 1).size() != 64) {
            throw new IllegalStateException("the worst case was not reached");
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("d_sae", dSae);
        m.put("accumulator_bytes", used);
        m.put("bytes_per_feature", (double) used / dSae);
        m.put("max_heap_bytes", Runtime.getRuntime().maxMemory());
        return m;
    }

    private static long usedAfterGc() {
        for (int i = 0; i < 3; i++) System.gc();
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static final String BEGIN = "<!-- atlas-bench:begin (scripts/bench.sh --atlas) -->", END = "<!-- atlas-bench:end -->";

    /** The atlas section of a benchmarks document ("" when it has none). */
    static String section(String doc) {
        int a = doc.indexOf(BEGIN), b = doc.indexOf(END);
        return a < 0 || b < a ? "" : doc.substring(a, b + END.length());
    }

    /** Replaces (or appends) the atlas section of {@code out} with the one rendered from a --atlas results folder. */
    static void writeReport(Path results, Path out) throws IOException {
        String doc = Files.exists(out) ? Files.readString(out) : "# jlens benchmarks\n";
        String old = section(doc);
        String next = render(results);
        dev.jlens.formats.AtomicFiles.writeString(out, old.isEmpty() ? doc.stripTrailing() + "\n\n" + next + "\n" : doc.replace(old, next));
    }

    private static com.fasterxml.jackson.databind.JsonNode json(Path f) throws IOException {
        return Files.exists(f) ? dev.jlens.util.Json.MAPPER.readTree(f.toFile()) : null;
    }

    private static String f(String fmt, double v) { return String.format(java.util.Locale.ROOT, fmt, v); }

    /** A work folder's peak size in MB from its {@code .disk} file (bytes), or "-". */
    private static String disk(Path f) throws IOException {
        return Files.exists(f) ? f("%.1f MB", Long.parseLong(Files.readString(f).strip()) / 1e6) : "-";
    }

    private static String gib(long kib) { return f("%.2f GiB", kib / 1048576.0); }

    static String render(Path r) throws IOException {
        java.util.Properties env = new java.util.Properties();
        try (var in = Files.newInputStream(r.resolve("env.properties"))) { env.load(in); }
        StringBuilder md = new StringBuilder(BEGIN).append("\n## Feature atlas\n\n");
        md.append("Generated by `scripts/bench.sh --atlas` on ").append(env.getProperty("date")).append(" (").append(env.getProperty("cpu"))
          .append(", ").append(env.getProperty("nproc")).append(" cores, ").append(env.getProperty("threads")).append(" threads). ")
          .append("The machine is shared: each row gives the load average (1, 5, 15 min) around its run, and on a 2-core machine with a load ")
          .append("above 2 absolute rates are inflated and noisy; the ratios come from runs interleaved in one process, shard by shard.\n\n");
        if (env.getProperty("note") != null) md.append("**Note:** ").append(env.getProperty("note")).append("\n\n");
        var ab = json(r.resolve("atlas-ab.json"));
        if (ab != null) {
            md.append("### Statistics cost: atlas vs capture-only\n\n");
            md.append("2B-shaped Q8_0 model (Gemma 2 2B's shapes, random weights), layer 12, the 16k SAE calibrated to its layer-12 residual (").append(ab.path("encoder").asText())
              .append(" encoder: ").append(ab.path("encoder_reason").asText()).append("). Per shard of ").append(ab.path("shard_contexts").asInt())
              .append(" contexts, alternating which goes first: the capture alone over the shard's decode batches, then the atlas's whole per-shard work ")
              .append("(capture, encode, statistics, spilled codes, checkpoint, merge).\n\n");
            md.append("| tokens | shards | capture-only tokens/s | atlas tokens/s | atlas / capture (totals) | median per-shard ratio | load start | load end |\n|---|---|---|---|---|---|---|---|\n");
            md.append("| ").append(ab.path("tokens").asLong()).append(" | ").append(ab.path("shards").asInt()).append(" | ").append(f("%.1f", ab.path("capture_tokens_per_s").asDouble()))
              .append(" | ").append(f("%.1f", ab.path("atlas_tokens_per_s").asDouble())).append(" | ").append(f("%.3f", ab.path("atlas_vs_capture").asDouble()))
              .append(" | ").append(f("%.3f", ab.path("atlas_vs_capture_median_pair").asDouble())).append(" | ").append(ab.path("load_start").asText().replaceAll(" \\S+ \\S+$", ""))
              .append(" | ").append(ab.path("load_end").asText().replaceAll(" \\S+ \\S+$", "")).append(" |\n\n");
            var bd = ab.path("breakdown_first_shard");
            if (!bd.isMissingNode()) {
                double cap = bd.path("capture_s").asDouble();
                md.append("Where the atlas's time goes (first shard, ").append(bd.path("tokens").asLong()).append(" tokens, each piece timed alone): capture ")
                  .append(f("%.2f", cap)).append(" s; SAE encode ").append(f("%.2f", bd.path("encode_s").asDouble())).append(" s (")
                  .append(f("%.1f%%", 100 * bd.path("encode_s").asDouble() / cap)).append(" of the capture); statistics ")
                  .append(f("%.3f", bd.path("statistics_s").asDouble())).append(" s (").append(f("%.2f%%", 100 * bd.path("statistics_s").asDouble() / cap))
                  .append("); spilled codes ").append(f("%.3f", bd.path("spill_s").asDouble())).append(" s (").append(bd.path("codes_bytes").asLong() / 1000)
                  .append(" kB); checkpoint ").append(f("%.3f", bd.path("checkpoint_s").asDouble())).append(" s (").append(bd.path("checkpoint_bytes").asLong() / 1000).append(" kB).\n\n");
            }
            md.append("Per-shard seconds, capture-only: ").append(ab.path("capture_shard_s").toString()).append("; atlas: ").append(ab.path("atlas_shard_s").toString()).append(".\n\n");
            md.append("After the scan: reading the corpus once (tokenize, spool) ").append(f("%.2f", ab.path("spool_s").asDouble())).append(" s; the example windows of ")
              .append(ab.path("fired_features").asInt()).append(" fired features from the spilled codes ").append(f("%.2f", ab.path("windows_s").asDouble())).append(ab.has("logit_lens_sample_s") ? " s; " : " s.");
            if (ab.has("logit_lens_sample_s")) {
                md.append("the logit lens (ggml mul_mat of the folded decoder rows on the quantized ").append(ab.path("logit_lens_vocab").asInt()).append("-token token_embd) took ")
                  .append(f("%.1f", ab.path("logit_lens_sample_s").asDouble())).append(" s for ").append(ab.path("logit_lens_sample").asInt())
                  .append(" features, so about ").append(f("%.0f", ab.path("logit_lens_all_fired_s_estimate").asDouble())).append(" s for all fired features: a fixed cost per atlas, ")
                  .append("independent of the corpus size.\n\n");
            } else {
                md.append("\n\n");
            }
        }
        List<String[]> rss = new ArrayList<>();
        try (var st = Files.list(r)) {
            for (Path p : st.filter(p -> p.getFileName().toString().matches("atlas-(toy-)?rss-\\d+\\.json")).sorted().toList()) {
                var j = json(p);
                String name = p.getFileName().toString().replace(".json", "");
                Path time = r.resolve(name + ".time");
                String max = Files.exists(time) ? gib(Long.parseLong(Files.readString(time).strip().lines().reduce((a, b) -> b).orElse("0").strip())) : "-";
                rss.add(new String[] {name.contains("toy") ? "planted toy" : "2B-shaped Q8_0", String.valueOf(j.path("tokens").asLong()),
                        f("%.1f", j.path("atlas_tokens_per_s").asDouble()), gib(j.path("VmHWM_kib").asLong()), max, gib(j.path("RssAnon_kib").asLong()),
                        j.path("load_start").asText().replaceAll(" \\S+ \\S+$", ""), disk(r.resolve(name + ".disk"))});
            }
        }
        if (!rss.isEmpty()) {
            rss.sort(java.util.Comparator.<String[], String>comparing(x -> x[0]).thenComparingLong(x -> Long.parseLong(x[1])));
            md.append("### Peak RSS vs corpus size\n\n");
            md.append("One process per row, with a fixed JVM heap (-Xmx512m in the script): the corpus read once, the statistics pass with checkpoints and spilled codes, the example windows (no logit lens). ")
              .append("VmHWM is the process's peak resident set (the memory-mapped model pages it touched included).\n\n");
            md.append("Peak work folder: the largest size of the run's work folder (checkpoints and spilled codes of the shards done so far, sampled every 5 s), deleted when the run completes.\n\n");
            md.append("| model | tokens | atlas tokens/s | peak RSS (VmHWM) | /usr/bin/time max RSS | RssAnon at end | load start | peak work folder |\n|---|---|---|---|---|---|---|---|\n");
            for (String[] x : rss) md.append("| ").append(String.join(" | ", x)).append(" |\n");
            md.append('\n');
        }
        var sp = json(r.resolve("spark-vs-embedded.json"));
        if (sp != null) {
            md.append("### Spark local[2] vs embedded\n\n").append(sp.path("note").asText()).append("\n\n");
            md.append("| run | tokens | embedded s | Spark local[2] s | embedded / Spark |\n|---|---|---|---|---|\n");
            for (var x : sp.path("runs")) {
                md.append("| ").append(x.path("run").asInt()).append(" | ").append(x.path("tokens").asLong()).append(" | ").append(f("%.1f", x.path("embedded_s").asDouble()))
                  .append(" | ").append(f("%.1f", x.path("spark_s").asDouble())).append(" | ").append(f("%.2f", x.path("embedded_s").asDouble() / x.path("spark_s").asDouble())).append(" |\n");
            }
            md.append('\n');
        }
        var mem = json(r.resolve("atlas-memory-262k.json"));
        if (mem != null) {
            md.append("### Accumulator memory\n\n").append(mem.path("d_sae").asInt()).append(" features, every feature fired and every top-20 and sample-64 slot full ")
              .append("(the worst case, whatever the corpus size): **").append(f("%.0f", mem.path("accumulator_bytes").asLong() / 1e6)).append(" MB** of heap (")
              .append(f("%.0f", mem.path("bytes_per_feature").asDouble())).append(" bytes per feature; target <= 1 GB).\n\n");
        }
        List<String> cal = new ArrayList<>();
        try (var st = Files.list(r)) {
            for (Path p : st.filter(p -> p.getFileName().toString().startsWith("encoder-calibrate-")).sorted().toList()) {
                var j = json(p);
                cal.add("| " + p.getFileName().toString().replace("encoder-calibrate-", "").replace(".json", "") + " | " + j.path("tokens").asInt() + " | "
                        + f("%.3f", j.path("vector_s").asDouble()) + " | " + f("%.3f", j.path("ggml_s").asDouble()) + " | " + j.path("kind").asText() + " | " + j.path("rule").asText() + " |");
            }
        }
        if (!cal.isEmpty()) {
            md.append("### `--encoder auto` vs a calibration on this machine\n\n`auto` decides by a rule over CPU features and weight type (`dev.jlens.sae.EncoderChoice`); ")
              .append("the calibration times both encoders alternately on the SAE (median of the pairs) to check the rule here.\n\n")
              .append("| SAE | tokens | vector s | ggml s | faster | auto's rule |\n|---|---|---|---|---|---|\n");
            for (String c : cal) md.append(c).append('\n');
            md.append('\n');
        }
        return md.append(END).toString();
    }

    /**
     * Where the atlas's time goes on the first shard, each piece timed alone in this process: capture, SAE encode,
     * statistics (ContextScanner), spilled codes (collect + write), checkpoint (serialize + SHA-256 + write).
     */
    private static Map<String, Object> breakdown(Model model, Sae sae, SpooledCorpus corpus, AtlasSettings s, int threads, EncoderKind encoder, Path work)
            throws IOException {
        List<AtlasContext> sh;
        try (ContextSource.Pass pass = corpus.open()) {
            sh = AtlasEngine.nextShard(pass, s);
        }
        double capture = 0, encode = 0, stats = 0, spill = 0;
        FeatureStats st = new FeatureStats(sae.dSae(), s.topK(), s.sampleSize());
        dev.jlens.atlas.ContextScanner scanner = new dev.jlens.atlas.ContextScanner(st);
        ShardCodes.Writer w = new ShardCodes.Writer(1);
        try (Context ctx = model.newContext(Context.Params.defaults().withCtx(s.batchTokens()).withUbatch(Math.min(s.batchTokens(), 4096))
                .withSeqMax(Math.min(AtlasSettings.MAX_BATCH_CONTEXTS, s.batchTokens())).withThreads(threads));
             dev.jlens.sae.SaeEncoder enc = sae.encoder(encoder)) {
            CaptureSource source = new CaptureSource(ctx, s.layer());
            for (List<AtlasContext> b : ShardWork.batches(sh, s)) {
                List<int[]> toks = new ArrayList<>();
                int[] rowStart = new int[b.size() + 1];
                for (int c = 0; c < b.size(); c++) {
                    toks.add(b.get(c).tokens());
                    rowStart[c + 1] = rowStart[c] + b.get(c).tokens().length;
                }
                long t0 = System.nanoTime();
                try (Activations a = source.capture(toks, new CaptureSource.Batch(0, toks.size()))) {
                    long t1 = System.nanoTime();
                    dev.jlens.sae.SparseCodes codes = enc.encode(a.data(), a.rows());
                    long t2 = System.nanoTime();
                    for (int c = 0; c < b.size(); c++) scanner.scan(b.get(c).id(), codes, rowStart[c], rowStart[c + 1]);
                    long t3 = System.nanoTime();
                    for (int c = 0; c < b.size(); c++) w.add(b.get(c).id(), List.of(codes), rowStart[c], rowStart[c + 1]);
                    long t4 = System.nanoTime();
                    capture += (t1 - t0) / 1e9;
                    encode += (t2 - t1) / 1e9;
                    stats += (t3 - t2) / 1e9;
                    spill += (t4 - t3) / 1e9;
                }
            }
        }
        long t5 = System.nanoTime();
        w.write(work.resolve("breakdown-codes.bin"), 0);
        long t6 = System.nanoTime();
        AtlasEngine.writePartial(work.resolve("breakdown-partial.bin"), 0, sh, List.of(st));
        long t7 = System.nanoTime();
        Map<String, Object> m = new LinkedHashMap<>();
        long tok = 0;
        for (AtlasContext c : sh) tok += c.tokens().length;
        m.put("tokens", tok);
        m.put("capture_s", capture);
        m.put("encode_s", encode);
        m.put("statistics_s", stats);
        m.put("spill_s", spill + (t6 - t5) / 1e9);
        m.put("checkpoint_s", (t7 - t6) / 1e9);
        m.put("checkpoint_bytes", Files.size(work.resolve("breakdown-partial.bin")));
        m.put("codes_bytes", Files.size(work.resolve("breakdown-codes.bin")));
        return m;
    }

    /** The capture alone over the shard's decode batches, as ShardWork cuts them. */
    private static double captureOnly(Context ctx, List<AtlasContext> shard, AtlasSettings s) {
        long t0 = System.nanoTime();
        CaptureSource source = new CaptureSource(ctx, s.layer());
        for (List<AtlasContext> b : ShardWork.batches(shard, s)) {
            List<int[]> toks = new ArrayList<>(b.size());
            for (AtlasContext c : b) toks.add(c.tokens());
            try (Activations a = source.capture(toks, new CaptureSource.Batch(0, toks.size()))) {
                if (a.rows() < 1) throw new IllegalStateException("captured nothing");
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }
}
