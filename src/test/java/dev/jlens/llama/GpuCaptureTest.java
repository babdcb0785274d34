package dev.jlens.llama;

import dev.jlens.formats.GgmlType;
import dev.jlens.toy.ToyModelJob;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * Capture with blocks 0..12 on a GPU (ggml's CUDA backend) against the same capture on the CPU backend.
 * Runs only where the loaded llama.cpp build registered a GPU device (scripts/build-native.sh --cuda on a
 * machine with an NVIDIA GPU); everywhere else every test is skipped with that reason. The two backends
 * round differently (CUDA evaluates GELU exactly where ggml-cpu uses an fp16 table, and its matmul
 * kernels sum in another order), so the comparison is a tolerance, set well below the distance between
 * neighbouring layers' residuals, which is what a wrong layer, a stale device read or a missing offload
 * override would produce.
 */
class GpuCaptureTest {
    @TempDir static Path tmp;
    List<Backends.Device> gpus;

    @BeforeEach
    void needsGpu() {
        gpus = Backends.gpus();
        assumeFalse(gpus.isEmpty(), "no GPU device registered by this llama.cpp build (CPU-only build or no GPU here): "
                + "build with scripts/build-native.sh --cuda on a machine with an NVIDIA GPU");

    }

    record Diff(double rel, double worstRow, double medianRow) {}

    static Diff diff(Activations a, Activations b, int layerA, int layerB) {
        assertEquals(b.rows(), a.rows());
        double num = 0, den = 0, worst = 0;
        List<Double> rows = new ArrayList<>();
        for (int r = 0; r < a.rows(); r++) {
            double rn = 0, rd = 0;
            for (int k = 0; k < a.nEmbd(); k++) {
                double d = a.get(layerA, r, k) - b.get(layerB, r, k);
                rn += d * d;
                rd += (double) b.get(layerB, r, k) * b.get(layerB, r, k);
            }
            num += rn;
            den += rd;
            rows.add(Math.sqrt(rn / rd));
            worst = Math.max(worst, Math.sqrt(rn / rd));
        }
        rows.sort(null);
        return new Diff(Math.sqrt(num / den), worst, rows.get(rows.size() / 2));
    }

    static List<int[]> prompts(Model m) {
        Vocab v = m.vocab();
        List<int[]> ps = new ArrayList<>();
        String[] texts = {"the capital of France is Paris", "hello", "a dog",
                "the old cat sat on the new mat and my friend likes long walks in the city of Paris",
                "the river Seine flows through the old city to the tower and the bread and cheese and wine"};
        for (int i = 0; i < 40; i++) ps.add(v.tokenize(texts[i % texts.length]));
        return ps;
    }

    /** CPU capture of layers 11 and 12 vs the capture-only GPU offload of blocks 0..12; returns {gpu vs cpu, layer 11 vs 12}. */
    static Diff[] compare(Path model, Context.Params params) {
        List<int[]> ps;
        try (Model cpu = Model.load(model); Context c = cpu.newContext(params)) {
            ps = prompts(cpu);
            try (Activations ref = c.capture(ps, new Context.CaptureSpec(new int[] {11, 12}, true))) {
                try (Model gpu = Model.load(model, Model.Params.captureOnGpu(12)); Context g = gpu.newContext(params);
                     Activations got = g.capture(ps, Context.CaptureSpec.layer(12))) {
                    return new Diff[] {diff(got, ref, 12, 12), diff(ref, ref, 11, 12)};
                }
            }
        }
    }

    static Context.Params params() {
        return Context.Params.defaults().withCtx(2048).withUbatch(512).withSeqMax(64).withF32KvCache(true).withFlashAttn(false).withThreads(2);
    }

    @Test
    void gpuCaptureOfAnF32ModelMatchesTheCpuCapture() {
        Diff[] d = compare(TinyModel.deep(), params());
        System.out.printf("GPU vs CPU capture, F32 26-layer model, layer 12: relative %.3g, median row %.3g, worst row %.3g; "
                + "layer 11 vs 12 on the CPU: %.3g%n", d[0].rel(), d[0].medianRow(), d[0].worstRow(), d[1].rel());
        assertTrue(d[0].rel() < 5e-3, "GPU vs CPU relative difference " + d[0].rel());
        assertTrue(d[0].worstRow() < 2e-2, "worst row " + d[0].worstRow());
        assertTrue(d[1].rel() > 20 * d[0].rel(), "the tolerance must separate layers: layer 11 vs 12 is only " + d[1].rel());
    }

    @Test
    void gpuCaptureOfAQ8_0ModelMatchesTheCpuCapture() throws Exception {
        Path q8 = tmp.resolve("tiny-q8_0.gguf");
        ToyModelJob.write(q8, ToyModelJob.Kind.TINY, GgmlType.Q8_0, 7);
        Context.Params p = params();
        Diff[] d = compare(q8, p);
        System.out.printf("GPU vs CPU capture, Q8_0 toy model, layer 12: relative %.3g, median row %.3g, worst row %.3g; "
                + "layer 11 vs 12 on the CPU: %.3g%n", d[0].rel(), d[0].medianRow(), d[0].worstRow(), d[1].rel());
        assertTrue(d[0].rel() < 3e-2, "GPU vs CPU relative difference " + d[0].rel());
        assertTrue(d[1].rel() > 5 * d[0].rel(), "the tolerance must separate layers: layer 11 vs 12 is only " + d[1].rel());
    }

    @Test
    void onlyTheBlocksUpToTheCaptureLayerAreOnTheGpu() {
        // llama.cpp reports each weight buffer as it loads the model: "CUDA0 model buffer size = 1.23 MiB"
        Pattern buf = Pattern.compile("(\\S+) model buffer size\\s*=\\s*([0-9.]+) MiB");
        List<String> lines = new ArrayList<>();
        Logger jul = Logger.getLogger("dev.jlens.llama.native");
        Level old = jul.getLevel();
        Handler h = new Handler() {
            @Override public void publish(LogRecord r) { synchronized (lines) { lines.add(r.getMessage()); } }
            @Override public void flush() {}
            @Override public void close() {}
        };
        h.setLevel(Level.ALL);
        jul.setLevel(Level.ALL);
        jul.addHandler(h);
        double gpuMiB = 0, cpuMiB = 0, allGpuMiB = 0;
        try {
            try (Model m = Model.load(TinyModel.deep(), Model.Params.captureOnGpu(12))) {
                assertEquals(26, m.nLayer());
            }
            List<String> capture;
            synchronized (lines) { capture = List.copyOf(lines); lines.clear(); }
            try (Model m = Model.load(TinyModel.deep(), new Model.Params(999, true))) {
                assertEquals(26, m.nLayer());
            }
            List<String> all;
            synchronized (lines) { all = List.copyOf(lines); }
            for (String l : capture) {
                Matcher x = buf.matcher(l);
                if (!x.find()) continue;
                if (x.group(1).startsWith("CUDA")) gpuMiB += Double.parseDouble(x.group(2));
                else cpuMiB += Double.parseDouble(x.group(2));
            }
            for (String l : all) {
                Matcher x = buf.matcher(l);
                if (x.find() && x.group(1).startsWith("CUDA")) allGpuMiB += Double.parseDouble(x.group(2));
            }
        } finally {
            jul.removeHandler(h);
            jul.setLevel(old);
        }
        System.out.printf("capture offload: %.2f MiB of weights on the GPU, %.2f MiB on the CPU; offloading every layer puts %.2f MiB on the GPU%n",
                gpuMiB, cpuMiB, allGpuMiB);
        assertTrue(gpuMiB > 0, "no weights on the GPU");
        assertTrue(cpuMiB > 0, "blocks 13.. and the embeddings must stay in CPU memory");
        // blocks 0..12 are 13 of 26 equal blocks; the full offload adds 13 blocks and the (tied) output matrix
        assertTrue(gpuMiB < 0.6 * allGpuMiB, "capture offload put " + gpuMiB + " MiB on the GPU, full offload " + allGpuMiB);
    }
}
