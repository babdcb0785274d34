package dev.jlens.sae;

import dev.jlens.kernels.KernelProvider;
import java.lang.System.Logger.Level;
import java.util.Locale;

/**
 * Encoder selection by name: "scalar", "vector", "ggml" (a ggml graph on the CPU backend),
 * "ggml-gpu" (the GPU backend when the build has one, else CPU with a logged reason), or "auto": the
 * fastest kernel for this CPU and weight type by {@link EncoderChoice}'s rule, falling back to scalar when the
 * chosen one cannot run, with the reason logged.
 */
public final class SaeEncoders {
    private static final System.Logger LOG = System.getLogger(SaeEncoders.class.getName());

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
                // the rule and its measurements: EncoderChoice
                EncoderChoice c = EncoderChoice.of(sae, "auto");
                if (c.kind().equals("vector")) yield new VectorSaeEncoder(sae, options);
                try {
                    LOG.log(Level.INFO, "encoder " + c.reason() + ", using the ggml encoder");
                    yield new GgmlSaeEncoder(sae, options, dev.jlens.llama.GgmlJumpRelu.Device.CPU);
                } catch (RuntimeException | LinkageError e) {
                    if (KernelProvider.vector().isPresent()) {
                        LOG.log(Level.INFO, "encoder auto: ggml encoder unavailable (" + e.getMessage() + "), using the Vector API encoder");
                        yield new VectorSaeEncoder(sae, options);
                    }
                    LOG.log(Level.INFO, "encoder auto: ggml encoder unavailable too (" + e.getMessage() + "), using the scalar encoder");
                    yield new ScalarSaeEncoder(sae, options);
                }
            }
            default -> throw new IllegalArgumentException("unknown encoder kind \"" + kind + "\"; expected auto, vector, ggml, ggml-gpu or scalar");
        };
    }
}
