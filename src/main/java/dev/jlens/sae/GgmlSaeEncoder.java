package dev.jlens.sae;

import dev.jlens.kernels.WeightFormat;
import dev.jlens.kernels.Weights;
import dev.jlens.llama.GgmlJumpRelu;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The SAE encode as a ggml graph (see {@link GgmlJumpRelu}); weights are uploaded to the backend once,
 * in the SAE's own matrix format (f32, or bf16 when the SAE is bf16), from either W_enc layout (a transposed
 * W_enc is already the feature-major layout the graph wants). The graph gates on {@link Sae#encodeThreshold()}
 * (JumpReLU max(threshold, 0), ReLU 0). Token blocks are computed densely on the backend and sparsified here block
 * by block; a topk SAE keeps each token's k largest ({@link TopK}). Not thread-safe.
 */
public final class GgmlSaeEncoder implements SaeEncoder {
    private final Sae sae;
    private final GgmlJumpRelu graph;
    private final int block;

    public GgmlSaeEncoder(Sae sae, EncoderOptions options, GgmlJumpRelu.Device device) {
        this.sae = Objects.requireNonNull(sae, "sae");
        Weights w = sae.wEnc(); // [d_in][d_sae]
        int dIn = sae.dIn(), dSae = sae.dSae();
        // keep a dense block <= 64 MB (64 tokens of a 262k SAE) and at most 256 tokens: the graph has a fixed
        // size and computes every row of a block, so a large block wastes work on short inputs
        this.block = (int) Math.max(1, Math.min(Math.min(options.tokenBlock() * 8L, 256), (64L << 20) / (4L * dSae)));
        boolean transposed = sae.wEncTransposed(); // then w is [d_sae][d_in]
        this.graph = GgmlJumpRelu.create(dIn, dSae, (f0, f1, dst) -> {
            int width = f1 - f0;
            if (transposed) {
                for (int j = 0; j < width; j++) for (int k = 0; k < dIn; k++) dst[j * dIn + k] = w.get(f0 + j, k);
            } else {
                for (int k = 0; k < dIn; k++) {
                    for (int j = 0; j < width; j++) dst[j * dIn + k] = w.get(k, f0 + j);
                }
            }
        }, w.format() == WeightFormat.BF16, sae.bEnc(), sae.encodeThreshold(), block, options.threads(), device);
    }

    @Override
    public String kind() { return "ggml"; }

    /** The ggml backend the graph runs on ("CPU", "CUDA0", ...). */
    public String backend() { return graph.backendName(); }

    @Override
    public Sae sae() { return sae; }

    public String backendName() { return graph.backendName(); }

    @Override
    public SparseCodes encode(MemorySegment x, int nTokens) {
        int dIn = sae.dIn(), dSae = sae.dSae();
        if (nTokens < 0) throw new IllegalArgumentException("nTokens must be >= 0: " + nTokens);
        if (x.byteSize() < (long) nTokens * dIn * 4)
            throw new IllegalArgumentException("x has " + x.byteSize() + " bytes; " + nTokens + " tokens x d_in " + dIn + " f32 need " + (long) nTokens * dIn * 4);
        List<SparseCodes> parts = new ArrayList<>();
        float[] in = new float[block * dIn];
        for (int t0 = 0; t0 < nTokens; t0 += block) {
            int n = Math.min(block, nTokens - t0);
            KernelSaeEncoder.loadInput(sae, x, t0, n, in);
            MemorySegment dense = graph.encode(MemorySegment.ofArray(in), n);
            int[][] idx = new int[n][];
            float[][] val = new float[n][];
            int[] ibuf = new int[dSae];
            float[] vbuf = new float[dSae];
            for (int t = 0; t < n; t++) {
                int c = 0;
                long row = (long) t * dSae;
                for (int f = 0; f < dSae; f++) {
                    float v = dense.getAtIndex(Sae.F32, row + f);
                    if (v != 0f) { ibuf[c] = f; vbuf[c] = v; c++; }
                }
                if (sae.topK() > 0) c = TopK.select(ibuf, vbuf, c, sae.topK());
                idx[t] = java.util.Arrays.copyOf(ibuf, c);
                val[t] = java.util.Arrays.copyOf(vbuf, c);
            }
            parts.add(SparseCodes.of(dSae, idx, val));
        }
        return parts.isEmpty() ? SparseCodes.empty(dSae) : parts.size() == 1 ? parts.get(0) : SparseCodes.merge(parts);
    }

    @Override
    public void close() { graph.close(); }
}
