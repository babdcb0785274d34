package dev.jlens.sae;

import dev.jlens.kernels.KernelProvider;
import java.lang.System.Logger.Level;
import java.util.Locale;

/**
 * Encoder selection by name: "scalar", "vector", "ggml" (a ggml graph on the CPU backend),
 * "ggml-gpu" (the GPU backend when the build has one, else CPU with a logged reason), or "auto":
 * ggml for SAEs whose W_enc copy is at most 512 MiB (16k: 144 MiB), else vector when the Vector API runs
 * here, otherwise scalar, with the reason logged.
 */
public final class SaeEncoders {
    private static final System.Logger LOG = System.getLogger(SaeEncoders.class.getName());

    /** Largest W_enc copy (bytes) for which "auto" picks the ggml encoder. */
    static final long GGML_AUTO_MAX_BYTES = 512L << 20;

    private SaeEncoders() {}

    public static SaeEncoder create(Sae sae, String kind) {
        return create(sae, kind, EncoderOptions.defaults());
    }

    public static SaeEncoder create(Sae sae, String kind, EncoderOptions options) {
        String k = kind.toLowerCase(Locale.ROOT);
        return switch (k) {
            case "scalar" -> new ScalarSaeEncoder(sae, options);
            case "vector" -> new VectorSaeEncoder(sae, options);
            case "ggml" -> new GgmlSaeEncoder(sae, options, dev.jlens.llama.GgmlJumpRelu.Device.CPU);
            case "ggml-gpu" -> new GgmlSaeEncoder(sae, options, dev.jlens.llama.GgmlJumpRelu.Device.GPU);
            case "auto" -> {
                // measured here (docs/benchmarks.md): the ggml CPU matmul encodes a 16k SAE ~4x faster than the
                // Vector API kernels, but keeps a transposed copy of W_enc in native memory; so ggml for SAEs
                // whose copy stays small, the memory-mapped Vector API encoder for large ones (262k: 2.4 GB)
                long copy = (long) sae.dIn() * sae.dSae() * sae.wEnc().format().bytes;
                if (copy <= GGML_AUTO_MAX_BYTES) {
                    try {
                        yield new GgmlSaeEncoder(sae, options, dev.jlens.llama.GgmlJumpRelu.Device.CPU);
                    } catch (RuntimeException | LinkageError e) {
                        LOG.log(Level.INFO, "encoder auto: ggml encoder unavailable (" + e.getMessage() + "), using the Vector API encoder");
                    }
                } else {
                    LOG.log(Level.DEBUG, "encoder auto: W_enc copy of " + (copy >> 20) + " MiB is too large for the ggml encoder, using the Vector API encoder");
                }
                if (KernelProvider.vector().isPresent()) yield new VectorSaeEncoder(sae, options);
                LOG.log(Level.INFO, "encoder auto: Vector API unavailable, using scalar encoder");
                yield new ScalarSaeEncoder(sae, options);
            }
            default -> throw new IllegalArgumentException("unknown encoder kind \"" + kind + "\"; expected auto, vector, ggml, ggml-gpu or scalar");
        };
    }
}
