package dev.jlens.sae;

import dev.jlens.kernels.KernelProvider;

/** Reference encoder on the plain-loop kernels. */
public final class ScalarSaeEncoder extends KernelSaeEncoder {
    public ScalarSaeEncoder(Sae sae, EncoderOptions options) {
        super(sae, KernelProvider.scalar(), options);
    }

    @Override
    public String kind() { return "scalar"; }
}
