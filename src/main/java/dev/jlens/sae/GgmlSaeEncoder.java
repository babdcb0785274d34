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
 * (JumpReLU max(threshold, 0), ReLU 0). With {@link Readback#COMPACT} (the GPU encoder's default) the graph also
 * compacts each block on the device ({@code dev.jlens.llama.GgmlCompaction}) and only per-token counts and
 * (feature, value) pairs come back; {@link Readback#DENSE} (the CPU backend's default) reads the dense
 * [tokens x d_sae] block back and scans it here. Both give bit-identical codes. A topk SAE keeps each token's k largest ({@link TopK}). Not thread-safe.
 */
public final class GgmlSaeEncoder implements SaeEncoder {
    /** How a block's activations come back from the backend. */
    public enum Readback { COMPACT, DENSE }

    private final Sae sae;
    private final GgmlJumpRelu graph;
    private final int block;
    private final Readback readback;

    /**
     * The encoder of {@code --encoder ggml} / {@code ggml-gpu}: compact read-back on a GPU, dense read-back on the
     * CPU backend, where "reading back" is a copy within host memory and the compaction's extra passes cost more
     * than they save (2 cores, 16k f32, 512 tokens: 2.62 s compact vs 2.10 s dense; docs/benchmarks.md).
     */
    public GgmlSaeEncoder(Sae sae, EncoderOptions options, GgmlJumpRelu.Device device) {
        this(sae, options, device, device == GgmlJumpRelu.Device.GPU ? Readback.COMPACT : Readback.DENSE, 0, GgmlJumpRelu.DEFAULT_CAPACITY);
    }

    /**
     * @param blockTokens tokens per graph; 0 picks {@link #defaultBlock}
     * @param capacity    slots per token of the compact read-back
     */
    public GgmlSaeEncoder(Sae sae, EncoderOptions options, GgmlJumpRelu.Device device, Readback readback, int blockTokens, int capacity) {
        this.sae = Objects.requireNonNull(sae, "sae");
        this.readback = Objects.requireNonNull(readback, "readback");
        if (blockTokens < 0) throw new IllegalArgumentException("blockTokens must be >= 0: " + blockTokens);
        Weights w = sae.wEnc(); // [d_in][d_sae]
        int dIn = sae.dIn(), dSae = sae.dSae();
        int maxBlock = blockTokens > 0 ? blockTokens : defaultBlock(device, readback, dIn, dSae, options);
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
        }, w.format() == WeightFormat.BF16, sae.bEnc(), sae.encodeThreshold(), maxBlock, options.threads(), device, capacity);
        if (blockTokens > 0) this.block = blockTokens;
        else if (graph.backendName().startsWith("CPU")) this.block = defaultBlock(GgmlJumpRelu.Device.CPU, readback, dIn, dSae, options); // also a GPU request that fell back
        else if (readback == Readback.COMPACT) this.block = gpuCompactBlock(dSae, graph.deviceMemory()[0]);
        else this.block = maxBlock;
    }

    /**
     * Tokens per graph. Dense read-back (and every CPU block): at most 256 tokens and a 64 MB dense block (64 tokens
     * of a 262k SAE), as before the compaction - the golden outputs stay as they were. Compact read-back on a GPU: an
     * upper bound of 4096 here, the block itself from {@link #gpuCompactBlock} once the device's free memory is known.
     */
    static int defaultBlock(GgmlJumpRelu.Device device, Readback readback, int dIn, int dSae, EncoderOptions options) {
        if (device == GgmlJumpRelu.Device.GPU && readback == Readback.COMPACT) return 4096;
        return (int) Math.max(1, Math.min(Math.min(options.tokenBlock() * 8L, 256), (64L << 20) / (4L * dSae)));
    }

    /**
     * The compact read-back's block on a GPU: up to 4096 tokens, as many as fit a compute buffer of at most 10 GiB and
     * half the device's free memory (8 GiB when ggml cannot tell), at 34 bytes per (token, feature) - the compaction
     * graph's buffer measured 32.7 on the CPU backend (137,103,360 bytes for 256 x 16384). Whole multiples of 256
     * tokens: 4096 for a 16k SAE, 1024 for a 262k one with 20 GB free.
     */
    static int gpuCompactBlock(int dSae, long freeBytes) {
        long budget = freeBytes > 0 ? Math.min(10L << 30, freeBytes / 2) : 8L << 30;
        long fit = budget / (34L * dSae);
        return (int) Math.max(1, Math.min(4096, fit >= 256 ? fit / 256 * 256 : fit));
    }

    @Override
    public String kind() { return "ggml"; }

    /** The ggml backend the graph runs on ("CPU", "CUDA0", ...). */
    public String backend() { return graph.backendName(); }

    @Override
    public Sae sae() { return sae; }

    public String backendName() { return graph.backendName(); }

    /** Tokens per graph. */
    public int blockTokens() { return block; }

    public Readback readback() { return readback; }

    /** Bytes read back from the backend since creation (dense blocks, or counts + slot rows + dense rows). */
    public long bytesReadBack() { return graph.bytesReadBack(); }

    /** Bytes of input uploaded since creation. */
    public long bytesUploaded() { return graph.bytesUploaded(); }

    /** The backend's compute buffer for the largest block so far. */
    public long computeBufferBytes() { return graph.computeBufferBytes(); }

    @Override
    public SparseCodes encode(MemorySegment x, int nTokens) {
        int dIn = sae.dIn(), dSae = sae.dSae();
        if (nTokens < 0) throw new IllegalArgumentException("nTokens must be >= 0: " + nTokens);
        if (x.byteSize() < (long) nTokens * dIn * 4)
            throw new IllegalArgumentException("x has " + x.byteSize() + " bytes; " + nTokens + " tokens x d_in " + dIn + " f32 need " + (long) nTokens * dIn * 4);
        List<SparseCodes> parts = new ArrayList<>();
        float[] in = new float[Math.min(block, Math.max(1, nTokens)) * dIn];
        for (int t0 = 0; t0 < nTokens; t0 += block) {
            int n = Math.min(block, nTokens - t0);
            KernelSaeEncoder.loadInput(sae, x, t0, n, in);
            int[][] idx;
            float[][] val;
            if (readback == Readback.COMPACT) {
                GgmlJumpRelu.Sparse s = graph.encodeSparse(MemorySegment.ofArray(in), n);
                idx = s.indices();
                val = s.values();
            } else {
                idx = new int[n][];
                val = new float[n][];
                scan(graph.encode(MemorySegment.ofArray(in), n), n, dSae, idx, val);
            }
            if (sae.topK() > 0) {
                for (int t = 0; t < n; t++) {
                    int[] ii = idx[t].clone();
                    float[] vv = val[t].clone();
                    int c = TopK.select(ii, vv, ii.length, sae.topK());
                    idx[t] = java.util.Arrays.copyOf(ii, c);
                    val[t] = java.util.Arrays.copyOf(vv, c);
                }
            }
            parts.add(SparseCodes.of(dSae, idx, val));
        }
        return parts.isEmpty() ? SparseCodes.empty(dSae) : parts.size() == 1 ? parts.get(0) : SparseCodes.merge(parts);
    }

    private static void scan(MemorySegment dense, int n, int dSae, int[][] idx, float[][] val) {
        int[] ibuf = new int[dSae];
        float[] vbuf = new float[dSae];
        for (int t = 0; t < n; t++) {
            int c = 0;
            long row = (long) t * dSae;
            for (int f = 0; f < dSae; f++) {
                float v = dense.getAtIndex(Sae.F32, row + f);
                if (v != 0f) { ibuf[c] = f; vbuf[c] = v; c++; }
            }
            idx[t] = java.util.Arrays.copyOf(ibuf, c);
            val[t] = java.util.Arrays.copyOf(vbuf, c);
        }
    }

    @Override
    public void close() { graph.close(); }
}
