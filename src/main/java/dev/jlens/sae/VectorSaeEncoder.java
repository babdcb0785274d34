package dev.jlens.sae;

import dev.jlens.kernels.KernelProvider;

/** Encoder on the Vector API kernels; construction fails when the Vector API is unavailable. */
public final class VectorSaeEncoder extends KernelSaeEncoder {
    public VectorSaeEncoder(Sae sae, EncoderOptions options) {
        super(sae, KernelProvider.vector().orElseThrow(() -> new IllegalStateException(
                "Vector API unavailable (run with --add-modules jdk.incubator.vector); use encoder kind \"scalar\"")), options);
    }

    @Override
    public String kind() { return "vector"; }
}
