package dev.jlens.sae;

import dev.jlens.kernels.KernelProvider;
import java.lang.System.Logger.Level;
import java.util.Locale;

/**
 * Encoder selection by name: "scalar", "vector", "ggml" (a ggml graph on the CPU backend),
 * "ggml-gpu" (the GPU backend when the build has one, else CPU with a logged reason), or "auto": the
 * Vector API encoder when the incubator module is present, else ggml on the CPU, else scalar, with the
 * reason logged.
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
                // measured here (docs/benchmarks.md): with packed W panels and 256-token blocks the Vector API
                // kernels encode as fast as ggml's CPU matmul (16k f32, 2 cores: 74-93 vs ~80 GFLOP/s) and read
                // the memory-mapped W_enc in place, where ggml keeps a transposed copy in native memory
                if (KernelProvider.vector().isPresent()) yield new VectorSaeEncoder(sae, options);
                try {
                    LOG.log(Level.INFO, "encoder auto: Vector API unavailable (run with --add-modules jdk.incubator.vector), using the ggml encoder");
                    yield new GgmlSaeEncoder(sae, options, dev.jlens.llama.GgmlJumpRelu.Device.CPU);
                } catch (RuntimeException | LinkageError e) {
                    LOG.log(Level.INFO, "encoder auto: ggml encoder unavailable too (" + e.getMessage() + "), using the scalar encoder");
                    yield new ScalarSaeEncoder(sae, options);
                }
            }
            default -> throw new IllegalArgumentException("unknown encoder kind \"" + kind + "\"; expected auto, vector, ggml, ggml-gpu or scalar");
        };
    }
}
