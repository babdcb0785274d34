package dev.jlens.api;

import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeFit;
import dev.jlens.sae.SparseCodes;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A sparse autoencoder (JumpReLU, standard ReLU or TopK; a Gemma Scope params.npz, a SAELens directory, or a registry
 * id such as {@code gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82}), memory-mapped. It encodes only
 * activations of the hook it was trained on: {@link #encode} refuses a capture of another layer. Thread rules:
 * {@link #encode} is not thread-safe (one encoder per thread); close after use.
 */
public final class SparseAutoencoder implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private final Sae sae;
    private final SaeEncoder encoder;

    private SparseAutoencoder(Sae sae, SaeEncoder encoder) {
        this.sae = sae;
        this.encoder = encoder;
    }

    /**
     * Loads an SAE and an encoder ({@link EncoderKind#AUTO} picks the kernels for this CPU and SAE). A registry
     * id wins over a folder of the same relative name (write {@code ./path} for the folder); a params.npz outside a
     * {@code layer_N} folder loads with its hook layer unknown ({@link #load(String, EncoderKind, int)} states it).
     *
     * @param pathOrId a params.npz, a SAELens directory or a registry id
     * @param encoder  the encoder ({@link EncoderKind#parse} reads a spelling such as {@code ggml-gpu})
     * @return the loaded SAE with its encoder; close it after use
     * @throws IOException when a file cannot be read, or ({@link dev.jlens.errors.InvalidFileException}) is malformed
     */
    public static SparseAutoencoder load(String pathOrId, EncoderKind encoder) throws IOException {
        return load(pathOrId, encoder, -1);
    }

    /**
     * As {@link #load(String, EncoderKind)}; {@code hookLayer} (>= 0, or -1) is the layer of a params.npz whose path names
     * none (its hook is then {@code blocks.hookLayer.hook_resid_post}).
     *
     * @param pathOrId  a params.npz, a SAELens directory or a registry id
     * @param encoder   the encoder
     * @param hookLayer the layer of a bare params.npz, or -1
     * @return the loaded SAE with its encoder; close it after use
     * @throws IOException when a file cannot be read, or ({@link dev.jlens.errors.InvalidFileException}) is malformed
     */
    public static SparseAutoencoder load(String pathOrId, EncoderKind encoder, int hookLayer) throws IOException {
        java.util.Objects.requireNonNull(encoder, "encoder");
        Sae sae = Sae.load(pathOrId, hookLayer);
        try {
            return new SparseAutoencoder(sae, sae.encoder(encoder));
        } catch (RuntimeException e) {
            sae.close();
            throw e;
        }
    }

    /**
     * Loads an SAE with the {@code auto} encoder.
     *
     * @param pathOrId a params.npz, a SAELens directory or a registry id
     * @return the loaded SAE; close it after use
     * @throws IOException when a file cannot be read, or ({@link dev.jlens.errors.InvalidFileException}) is malformed
     */
    public static SparseAutoencoder load(String pathOrId) throws IOException { return load(pathOrId, EncoderKind.AUTO); }

    /**
     * The hook it was trained on.
     *
     * @return e.g. {@code blocks.12.hook_resid_post}; null when unknown (a bare params.npz)
     */
    public String hookName() { return sae.cfg().hookName(); }
    /**
     * SAELens' architecture.
     *
     * @return "jumprelu", "standard" or "topk"
     */
    public String architecture() { return sae.cfg().architecture(); }
    /**
     * The model it was trained on.
     *
     * @return e.g. {@code gemma-2-2b}; null when unknown
     */
    public String modelName() { return sae.cfg().modelName(); }

    /**
     * Input width.
     *
     * @return d_in (the model's d_model)
     */
    public int dIn() { return sae.dIn(); }
    /**
     * Number of features.
     *
     * @return d_sae
     */
    public int dSae() { return sae.dSae(); }

    /**
     * The Neuronpedia page of a feature.
     *
     * @param feature a feature index
     * @return its address, or null when the SAE has no neuronpedia_id
     */
    public String neuronpediaUrl(int feature) {
        String id = sae.cfg().neuronpediaId();
        return id == null ? null : "https://www.neuronpedia.org/" + id + "/" + feature;
    }

    /**
     * The feature's decoder row: its direction in the residual stream.
     *
     * @param feature a feature index in [0, d_sae)
     * @return a fresh array of length d_in
     */
    public float[] decoderRow(int feature) { return sae.decoderRow(feature); }

    /**
     * Sparse codes of every row. d_in must equal the activations' d_model, and the SAE's hook must be the captured
     * one ({@code blocks.layer.hook_resid_post}, or {@code blocks.(layer+1).hook_resid_pre}): otherwise an
     * IllegalArgumentException names both hooks. An SAE whose hook is unknown encodes any layer.
     *
     * @param x a capture of this SAE's layer
     * @return the active features and their activations, one row per activation row
     */
    public FeatureActivations encode(LayerActivations x) {
        sae.validateFor(x.dModel());
        SaeFit.requireCapturePoint(sae.cfg(), sae.source().toString(), x.layer());
        SparseCodes c = encoder.encode(x.data(), x.rows());
        return new FeatureActivations(c);
    }

    /**
     * Reconstructs activations from codes, as SAELens' {@code decode}: {@code codes @ W_dec + b_dec} in float32 (an SAE
     * with normalize_activations "none", the only kind jlens loads). The reconstruction of an {@link #encode}d capture
     * is {@code decode(encode(x))}; its error against {@code x} is what SAELens reports as MSE / FVU.
     * Thread-safe (it only reads the weights).
     *
     * @param codes codes of this SAE (width d_sae), e.g. from {@link #encode}
     * @return one reconstructed row of length d_in per code row, in the codes' row order
     * @throws IllegalArgumentException when the codes' width is not this SAE's d_sae
     */
    public float[][] decode(FeatureActivations codes) {
        if (codes.width() != dSae())
            throw new IllegalArgumentException("codes of width " + codes.width() + " cannot be decoded by SAE " + sae.source() + " of d_sae " + dSae());
        float[][] out = new float[codes.rows()][];
        for (int r = 0; r < out.length; r++) out[r] = decode(codes.features(r), codes.values(r));
        return out;
    }

    /**
     * Reconstructs one row from sparse codes: {@code b_dec + sum_i values[i] * W_dec[features[i]]}, float32, summed in
     * the order given. Repeated features add up, as a dense code vector with their summed value would.
     *
     * @param features active feature indices, each in [0, d_sae)
     * @param values   their activations, same length as {@code features}
     * @return the reconstructed row, length d_in
     * @throws IllegalArgumentException when the lengths differ or a feature index is out of range
     */
    public float[] decode(int[] features, float[] values) {
        if (features.length != values.length)
            throw new IllegalArgumentException(features.length + " feature indices but " + values.length + " values");
        int dIn = dIn(), dSae = dSae();
        for (int f : features)
            if (f < 0 || f >= dSae) throw new IllegalArgumentException("feature " + f + " is outside [0, " + dSae + ") of SAE " + sae.source());
        float[] out = new float[dIn];
        MemorySegment bDec = sae.bDec();
        for (int c = 0; c < dIn; c++) out[c] = bDec.getAtIndex(F32, c);
        for (int i = 0; i < features.length; i++) {
            float v = values[i];
            if (v == 0f) continue;
            float[] row = sae.decoderRow(features[i]);
            for (int c = 0; c < dIn; c++) out[c] += v * row[c];
        }
        return out;
    }

    @Override
    public void close() {
        encoder.close();
        sae.close();
    }
}
