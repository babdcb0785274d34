package dev.jlens.atlas;

import dev.jlens.formats.FormatException;
import dev.jlens.formats.GgufFile;
import dev.jlens.kernels.Kernels;
import dev.jlens.llama.GgmlMatrix;
import dev.jlens.llama.RowDequantizer;


import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.function.IntFunction;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * The logit lens of SAE features: which output tokens a feature's decoder direction promotes and suppresses.
 * Gemma ties its unembedding to {@code token_embd}; following TransformerLens as SAEDashboard runs it for
 * Neuronpedia ({@code fold_ln=True}, {@code center_unembed=True}), the final RMSNorm weight
 * ({@code output_norm.weight}, stored with Gemma's +1 already applied) is folded into the unembedding and the
 * unembedding is centred over the vocabulary: logit(f, v) = (W_dec[f] * g) . E[v] - mean_v' (W_dec[f] * g) . E[v'].
 * Gemma 2's final logit soft-capping is not applied (it is monotonic and TransformerLens's W_U omits it too).
 *
 * <p>{@link #compute} multiplies blocks of folded decoder rows by the quantized {@code token_embd}, read in place from
 * the memory-mapped GGUF, with ggml's mul_mat on the CPU backend ({@link GgmlMatrix}); the mean over the vocabulary is
 * the mean of each row's products (double sum in token order), and the top and bottom lists are picked in Java. ggml
 * rounds each folded row to the matrix's dot-product type first (Q8_0 for a Q8_0 or Q4_0 embedding), so the values
 * differ from f32 dot products of the dequantised rows by a rounding error ({@link #computeF32}, the earlier path,
 * kept as the reference: docs/atlas.md gives the measured difference). Neither path dequantises the vocabulary into
 * one array: the reference dequantises it chunk by chunk with ggml's own {@code to_float}.
 */
public final class LogitLens {
    /** The convention, as recorded in atlas.json. */
    public static final String CONVENTION = "W_dec[f] * output_norm.weight, dotted with token_embd rows, minus its mean over the vocabulary "
            + "(TransformerLens fold_ln + center_unembed; no final soft-capping); dot products by ggml mul_mat on token_embd as stored, "
            + "the folded row rounded to its dot-product type (Q8_0 for a Q8_0 or Q4_0 embedding)";

    /** One token and its (centred) logit contribution. */
    public record Entry(int token, float value) {}

    /** The promoted (descending) and suppressed (ascending) tokens of one feature. */
    public record Lists(List<Entry> positive, List<Entry> negative) {}

    private static final int VOCAB_CHUNK = 1024;
    /** Unembedding rows every feature passes over together (16 x 2304 floats = 147 KB for Gemma 2 2B: within L2). */
    private static final int ROW_TILE = 16;

    private final GgufFile gguf;
    private final GgufFile.TensorInfo embd;
    private final float[] norm;
    private final int dModel;
    private final int vocab;
    private final Kernels kernels;
    private final int threads;

    /** As below with one CPU thread per available processor. */
    public LogitLens(GgufFile gguf, Kernels kernels) throws FormatException {
        this(gguf, kernels, Runtime.getRuntime().availableProcessors());
    }

    /** @param threads ggml's CPU threads for {@link #compute} (speed only: each product is one thread's dot product) */
    public LogitLens(GgufFile gguf, Kernels kernels, int threads) throws FormatException {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.gguf = gguf;
        this.kernels = kernels;
        this.threads = threads;
        this.embd = gguf.requireTensor("token_embd.weight");
        GgufFile.TensorInfo n = gguf.requireTensor("output_norm.weight");
        long[] ne = embd.ne();
        if (ne.length != 2) throw new FormatException(gguf.file(), embd.name(), "expected 2 dimensions, got " + ne.length);
        this.dModel = Math.toIntExact(ne[0]);
        this.vocab = Math.toIntExact(ne[1]);
        this.norm = gguf.readF32(n);
        if (norm.length != dModel) throw new FormatException(gguf.file(), n.name(), "length " + norm.length + ", token_embd has d_model " + dModel);
    }

    public int dModel() { return dModel; }
    public int vocab() { return vocab; }

    /** Folded rows per ggml block: at most 64, and at most ~64 MB of products (256k vocabulary: 64 rows). */
    static int block(int vocab) {
        return Math.max(1, Math.min(64, (64 << 20) / (4 * vocab)));
    }

    /**
     * The {@code k} most promoted and most suppressed tokens of each feature, by ggml's mul_mat against the
     * (quantized) embedding. {@code direction.apply(i)} gives feature i's decoder row (length d_model) for i in
     * [0, count). Ties rank the lower token id first.
     */
    public List<Lists> compute(int count, IntFunction<float[]> direction, int k) {
        if (k < 1) throw new IllegalArgumentException("k must be >= 1");
        List<Lists> out = new ArrayList<>(count);
        if (count == 0) return out;
        int block = Math.min(count, block(vocab));
        try (GgmlMatrix e = GgmlMatrix.wrap(gguf.data(embd), embd.type(), dModel, vocab, block, threads)) {
            float[] u = new float[block * dModel];
            for (int f0 = 0; f0 < count; f0 += block) {
                int nf = Math.min(block, count - f0);
                for (int i = 0; i < nf; i++) {
                    float[] w = direction.apply(f0 + i);
                    if (w.length != dModel) throw new IllegalArgumentException("direction " + (f0 + i) + " has length " + w.length + ", d_model is " + dModel);
                    for (int d = 0; d < dModel; d++) u[i * dModel + d] = w[d] * norm[d];
                }
                Lists[] lists = new Lists[nf];
                e.multiply(u, nf, products -> IntStream.range(0, nf).parallel().forEach(i -> {
                    long base = (long) i * vocab;
                    double sum = 0;
                    for (int v = 0; v < vocab; v++) sum += products.getAtIndex(JAVA_FLOAT, base + v);
                    float offset = (float) (sum / vocab);
                    Top pos = new Top(k), neg = new Top(k);
                    for (int v = 0; v < vocab; v++) {
                        float logit = products.getAtIndex(JAVA_FLOAT, base + v) - offset;
                        pos.offer(v, logit);
                        neg.offer(v, -logit);
                    }
                    lists[i] = lists(pos, neg);
                }));
                for (Lists l : lists) out.add(l);
            }
        }
        return out;
    }

    private static Lists lists(Top pos, Top neg) {
        List<Entry> n = new ArrayList<>();
        for (Entry en : neg.sorted()) n.add(new Entry(en.token(), -en.value()));
        return new Lists(pos.sorted(), n);
    }

    /**
     * As {@link #compute}, by f32 dot products of the dequantised embedding rows in Java (the earlier path, ~10x
     * slower on a 2B model; kept as the reference the ggml path is checked against): the mean is taken over the
     * dequantised rows, and each logit is the folded row's dot product with a row minus its dot product with the mean.
     */
    public List<Lists> computeF32(int count, IntFunction<float[]> direction, int k) {
        if (k < 1) throw new IllegalArgumentException("k must be >= 1");
        RowDequantizer dq = RowDequantizer.of(embd.type());
        long rowBytes = embd.type().rowBytes(dModel);
        float[] chunk = new float[VOCAB_CHUNK * dModel];
        float[] mean = meanRow();

        int block = Math.max(1, Math.min(count, (64 << 20) / (4 * dModel) / 4)); // ~16 MB of directions per block
        List<Lists> out = new ArrayList<>(count);
        float[][] tile = new float[ROW_TILE][dModel];
        for (int f0 = 0; f0 < count; f0 += block) {
            int nf = Math.min(block, count - f0);
            float[][] u = new float[nf][];
            float[] offset = new float[nf];
            Top[] pos = new Top[nf], neg = new Top[nf];
            for (int i = 0; i < nf; i++) {
                float[] w = direction.apply(f0 + i);
                if (w.length != dModel) throw new IllegalArgumentException("direction " + (f0 + i) + " has length " + w.length + ", d_model is " + dModel);
                u[i] = new float[dModel];
                for (int d = 0; d < dModel; d++) u[i][d] = w[d] * norm[d];
                offset[i] = kernels.dot(u[i], mean, dModel);
                pos[i] = new Top(k);
                neg[i] = new Top(k);
            }
            for (int v0 = 0; v0 < vocab; v0 += VOCAB_CHUNK) {
                int rows = Math.min(VOCAB_CHUNK, vocab - v0);
                dq.dequantize(gguf.data(embd).asSlice(v0 * rowBytes, rows * rowBytes), rows, dModel, chunk);
                // a tile of rows stays in cache while every feature's direction passes over it once (one pass over the
                // directions per row made this memory-bound); features in parallel, each one's rows in order, so every
                // feature sees the same dot products in the same order as one thread would
                for (int t0 = 0; t0 < rows; t0 += ROW_TILE) {
                    int tr = Math.min(ROW_TILE, rows - t0), first = v0 + t0;
                    for (int j = 0; j < tr; j++) System.arraycopy(chunk, (t0 + j) * dModel, tile[j], 0, dModel);
                    IntStream.range(0, nf).parallel().forEach(i -> {
                        for (int j = 0; j < tr; j++) {
                            float logit = kernels.dot(u[i], tile[j], dModel) - offset[i];
                            pos[i].offer(first + j, logit);
                            neg[i].offer(first + j, -logit);
                        }
                    });
                }
            }
            for (int i = 0; i < nf; i++) out.add(lists(pos[i], neg[i]));
        }
        return out;
    }

    private float[] mean;

    /** The mean dequantised embedding row (double accumulation, one pass; computed once). */
    private synchronized float[] meanRow() {
        if (mean != null) return mean;
        RowDequantizer dq = RowDequantizer.of(embd.type());
        long rowBytes = embd.type().rowBytes(dModel);
        float[] chunk = new float[VOCAB_CHUNK * dModel];
        double[] meanAcc = new double[dModel];
        for (int v0 = 0; v0 < vocab; v0 += VOCAB_CHUNK) {
            int rows = Math.min(VOCAB_CHUNK, vocab - v0);
            dq.dequantize(gguf.data(embd).asSlice(v0 * rowBytes, rows * rowBytes), rows, dModel, chunk);
            for (int r = 0; r < rows; r++) for (int d = 0; d < dModel; d++) meanAcc[d] += chunk[r * dModel + d];
        }
        float[] m = new float[dModel];
        for (int d = 0; d < dModel; d++) m[d] = (float) (meanAcc[d] / vocab);
        return mean = m;
    }

    /** One token's logit by {@link #computeF32}'s arithmetic (for checks of single tokens outside the lists). */
    float referenceLogit(float[] direction, int token) {
        float[] u = new float[dModel];
        for (int d = 0; d < dModel; d++) u[d] = direction[d] * norm[d];
        float[] row = new float[dModel];
        long rowBytes = embd.type().rowBytes(dModel);
        RowDequantizer.of(embd.type()).dequantize(gguf.data(embd).asSlice(token * rowBytes, rowBytes), 1, dModel, row);
        return kernels.dot(u, row, dModel) - kernels.dot(u, meanRow(), dModel);
    }

    /** The k largest (value desc, token asc). */
    private static final class Top {
        final int[] tok;
        final float[] val;
        int n;

        Top(int k) {
            tok = new int[k];
            val = new float[k];
        }

        void offer(int t, float v) {
            int k = tok.length;
            if (n == k && !(v > val[k - 1])) return; // tokens arrive ascending, so an equal value ranks after
            int i = n == k ? k - 1 : n;
            while (i > 0 && v > val[i - 1]) {
                tok[i] = tok[i - 1];
                val[i] = val[i - 1];
                i--;
            }
            tok[i] = t;
            val[i] = v;
            if (n < k) n++;
        }

        List<Entry> sorted() {
            List<Entry> l = new ArrayList<>(n);
            for (int i = 0; i < n; i++) l.add(new Entry(tok[i], val[i]));
            return l;
        }
    }
}
