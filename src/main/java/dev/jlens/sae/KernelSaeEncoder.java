package dev.jlens.sae;

import dev.jlens.kernels.Kernels;
import dev.jlens.kernels.TiledEncoder;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Shared body of the Java encoders: token blocks through a {@link TiledEncoder} over the SAE's W_enc with its
 * {@link Sae#encodeThreshold()} (JumpReLU and standard SAEs stored in C order), or through {@link SaeTiles} (a W_enc
 * stored transposed, or a topk SAE). Both run the same kernels.
 */
abstract sealed class KernelSaeEncoder implements SaeEncoder permits ScalarSaeEncoder, VectorSaeEncoder {
    private final Sae sae;
    private final Kernels kernels;
    private final TiledEncoder tiles;
    private final SaeTiles other;
    private final EncoderOptions options;

    KernelSaeEncoder(Sae sae, Kernels kernels, EncoderOptions options) {
        this.sae = Objects.requireNonNull(sae, "sae");
        this.kernels = kernels;
        this.options = options;
        if (!sae.wEncTransposed() && sae.topK() == 0) {
            this.tiles = new TiledEncoder(kernels, sae.wEnc(), sae.bEnc(), sae.encodeThreshold(), options.tileWidth(), options.tokenBlock(), options.threads());
            this.other = null;
        } else {
            this.tiles = null;
            this.other = new SaeTiles(kernels, sae, options);
        }
    }

    @Override
    public Sae sae() { return sae; }

    Kernels kernels() { return kernels; }

    public EncoderOptions options() { return options; }

    @Override
    public SparseCodes encode(MemorySegment x, int nTokens) {
        int dIn = sae.dIn();
        if (nTokens < 0) throw new IllegalArgumentException("nTokens must be >= 0: " + nTokens);
        if (x.byteSize() < (long) nTokens * dIn * 4)
            throw new IllegalArgumentException("x has " + x.byteSize() + " bytes; " + nTokens + " tokens x d_in " + dIn + " f32 need " + (long) nTokens * dIn * 4);
        List<SparseCodes> parts = new ArrayList<>();
        int block = options.tokenBlock();
        float[] buf = new float[block * dIn];
        for (int t0 = 0; t0 < nTokens; t0 += block) {
            int n = Math.min(block, nTokens - t0);
            loadInput(sae, x, t0, n, buf);
            TiledEncoder.Result r = tiles != null ? tiles.encodeBlock(buf, n) : other.encodeBlock(buf, n);
            parts.add(SparseCodes.of(sae.dSae(), r.indices(), r.values()));
        }
        return parts.isEmpty() ? SparseCodes.empty(sae.dSae()) : parts.size() == 1 ? parts.get(0) : SparseCodes.merge(parts);
    }

    /**
     * Copies tokens [t0, t0+n) of x into {@code buf} as the encoder's input: checked finite, minus b_dec when the
     * SAE's config says apply_b_dec_to_input (never for Gemma Scope).
     */
    static void loadInput(Sae sae, MemorySegment x, int t0, int n, float[] buf) {
        int dIn = sae.dIn();
        boolean subtract = sae.cfg().applyBDecToInput();
        MemorySegment bDec = sae.bDec();
        for (int t = 0; t < n; t++) {
            long base = (long) (t0 + t) * dIn;
            for (int k = 0; k < dIn; k++) {
                float v = x.getAtIndex(Sae.F32, base + k);
                if (!Float.isFinite(v)) throw new IllegalArgumentException("x: non-finite value " + v + " at token " + (t0 + t) + ", index " + k);
                buf[t * dIn + k] = subtract ? v - bDec.getAtIndex(Sae.F32, k) : v;
            }
        }
    }

    @Override
    public void close() {
        if (tiles != null) tiles.close();
        if (other != null) other.close();
    }
}
