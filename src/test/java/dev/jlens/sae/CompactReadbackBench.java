package dev.jlens.sae;

import dev.jlens.llama.GgmlJumpRelu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The ggml encoder's read-back before and after the device compaction, on one SAE file and one backend: the dense
 * read-back (the whole [tokens x d_sae] block copied back and scanned in Java, with its old block size) against the
 * compact one (counts and (feature, value) pairs), alternating in one JVM. Reports median encode seconds, GFLOP/s
 * (2 x tokens x d_in x d_sae), bytes read back per encode and per block, and the compute buffer. Run by
 * scripts/gpu-check.sh's compact-bench step on a GPU and by hand on the CPU:
 * {@code java ... dev.jlens.sae.CompactReadbackBench sae=PATH tokens=N device=CPU|GPU threads=T runs=R [block=B]
 * [capacity=C] [out=FILE]} (block: the compact path's tokens per graph, default the encoder's choice).
 */
public final class CompactReadbackBench {
    private CompactReadbackBench() {}

    public static void main(String[] args) throws IOException {
        Map<String, String> a = new LinkedHashMap<>();
        for (String s : args) {
            int i = s.indexOf('=');
            if (i < 1) throw new IllegalArgumentException("arguments are key=value, got " + s);
            a.put(s.substring(0, i), s.substring(i + 1));
        }
        Path sae = Path.of(req(a, "sae"));
        int tokens = Integer.parseInt(req(a, "tokens"));
        GgmlJumpRelu.Device device = GgmlJumpRelu.Device.valueOf(a.getOrDefault("device", "CPU"));
        int threads = Integer.parseInt(a.getOrDefault("threads", String.valueOf(Runtime.getRuntime().availableProcessors())));
        int runs = Integer.parseInt(a.getOrDefault("runs", "3"));
        int block = Integer.parseInt(a.getOrDefault("block", "0"));
        int capacity = Integer.parseInt(a.getOrDefault("capacity", String.valueOf(GgmlJumpRelu.DEFAULT_CAPACITY)));
        String json = run(sae, tokens, device, threads, runs, block, capacity);
        System.out.println(json);
        if (a.containsKey("out")) Files.writeString(Path.of(a.get("out")), json + "\n");
    }

    private static String req(Map<String, String> a, String k) {
        String v = a.get(k);
        if (v == null) throw new IllegalArgumentException("missing " + k + "=...");
        return v;
    }

    static String run(Path saePath, int tokens, GgmlJumpRelu.Device device, int threads, int runs, int block, int capacity) throws IOException {
        EncoderOptions opts = EncoderOptions.defaults().withThreads(threads);
        try (Sae sae = Sae.load(saePath.toString());
             GgmlSaeEncoder dense = new GgmlSaeEncoder(sae, opts, device, GgmlSaeEncoder.Readback.DENSE, 0, capacity);
             GgmlSaeEncoder compact = new GgmlSaeEncoder(sae, opts, device, GgmlSaeEncoder.Readback.COMPACT, block, capacity)) {
            float[] x = new float[tokens * sae.dIn()];
            SplittableRandom r = new SplittableRandom(7); // N(0, 1) tokens, as Bench's encode
            for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
            SparseCodes cd = dense.encode(x, tokens), cc = compact.encode(x, tokens); // warm-up: pages, buffers
            for (int t = 0; t < tokens; t++) {
                if (!Arrays.equals(cc.indices(t), cd.indices(t)) || !Arrays.equals(cc.values(t), cd.values(t)))
                    throw new IllegalStateException("compact and dense read-back differ at token " + t);
            }
            long denseBytes0 = dense.bytesReadBack(), compactBytes0 = compact.bytesReadBack();
            double[] d = new double[runs], c = new double[runs];
            for (int i = 0; i < runs; i++) {
                boolean denseFirst = i % 2 == 0;
                double s1 = time(denseFirst ? dense : compact, x, tokens), s2 = time(denseFirst ? compact : dense, x, tokens);
                d[i] = denseFirst ? s1 : s2;
                c[i] = denseFirst ? s2 : s1;
            }
            double flop = 2.0 * tokens * sae.dIn() * sae.dSae();
            long dBytes = (dense.bytesReadBack() - denseBytes0) / runs, cBytes = (compact.bytesReadBack() - compactBytes0) / runs;
            int dBlocks = (tokens + dense.blockTokens() - 1) / dense.blockTokens(), cBlocks = (tokens + compact.blockTokens() - 1) / compact.blockTokens();
            return String.format(Locale.ROOT, "{\"sae\": \"%s\", \"weights\": \"%s\", \"d_in\": %d, \"d_sae\": %d, \"tokens\": %d, \"backend\": \"%s\", "
                            + "\"threads\": %d, \"mean_l0\": %.2f, \"capacity\": %d, "
                            + "\"dense_block\": %d, \"dense_seconds\": %.5f, \"dense_gflops\": %.1f, \"dense_bytes\": %d, \"dense_bytes_per_block\": %d, \"dense_compute_buffer\": %d, "
                            + "\"compact_block\": %d, \"compact_seconds\": %.5f, \"compact_gflops\": %.1f, \"compact_bytes\": %d, \"compact_bytes_per_block\": %d, \"compact_compute_buffer\": %d, "
                            + "\"dense_seconds_runs\": %s, \"compact_seconds_runs\": %s}",
                    saePath, sae.wEnc().format(), sae.dIn(), sae.dSae(), tokens, compact.backend(), threads, (double) cc.nnz() / tokens, capacity,
                    dense.blockTokens(), median(d), flop / median(d) / 1e9, dBytes, dBytes / dBlocks, dense.computeBufferBytes(),
                    compact.blockTokens(), median(c), flop / median(c) / 1e9, cBytes, cBytes / cBlocks, compact.computeBufferBytes(),
                    Arrays.toString(d), Arrays.toString(c));
        }
    }

    private static double time(SaeEncoder e, float[] x, int tokens) {
        long t0 = System.nanoTime();
        SparseCodes c = e.encode(x, tokens);
        double s = (System.nanoTime() - t0) / 1e9;
        if (c.nTokens() != tokens) throw new IllegalStateException("encoder returned " + c.nTokens() + " tokens, want " + tokens);
        return s;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
