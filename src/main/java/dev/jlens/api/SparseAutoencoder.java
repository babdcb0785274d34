package dev.jlens.api;

import dev.jlens.sae.EncoderOptions;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeEncoders;
import dev.jlens.sae.SparseCodes;

import java.io.IOException;

/**
 * A JumpReLU SAE (Gemma Scope params.npz, SAELens directory, or a registry id such as
 * {@code gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82}), memory-mapped. Thread rules: {@link #encode} is
 * not thread-safe (one encoder per thread); close after use.
 */
public final class SparseAutoencoder implements AutoCloseable {
    private final Sae sae;
    private final SaeEncoder encoder;

    private SparseAutoencoder(Sae sae, SaeEncoder encoder) {
        this.sae = sae;
        this.encoder = encoder;
    }

    /** Loads an SAE and an encoder ("auto" = Vector API when available; also "vector", "ggml", "scalar"). */
    public static SparseAutoencoder load(String pathOrId, String encoder) throws IOException {
        Sae sae = Sae.load(pathOrId);
        try {
            return new SparseAutoencoder(sae, SaeEncoders.create(sae, encoder, EncoderOptions.defaults()));
        } catch (RuntimeException e) {
            sae.close();
            throw e;
        }
    }

    /** Loads an SAE with the {@code auto} encoder. */
    public static SparseAutoencoder load(String pathOrId) throws IOException { return load(pathOrId, "auto"); }

    /** Input width d_in (the model's d_model). */
    public int dIn() { return sae.dIn(); }
    /** Number of features d_sae. */
    public int dSae() { return sae.dSae(); }

    /** The Neuronpedia page of a feature, or null when the SAE has no neuronpedia_id. */
    public String neuronpediaUrl(int feature) {
        String id = sae.cfg().neuronpediaId();
        return id == null ? null : "https://www.neuronpedia.org/" + id + "/" + feature;
    }

    /** The feature's decoder row (its direction in the residual stream), length d_in. */
    public float[] decoderRow(int feature) { return sae.decoderRow(feature); }

    /** Sparse codes of every row (d_in must equal the activations' d_model). */
    public FeatureActivations encode(LayerActivations x) {
        sae.validateFor(x.dModel());
        SparseCodes c = encoder.encode(x.data(), x.rows());
        return new FeatureActivations(c);
    }

    @Override
    public void close() {
        encoder.close();
        sae.close();
    }
}
