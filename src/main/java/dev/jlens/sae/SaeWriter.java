package dev.jlens.sae;

import dev.jlens.formats.DType;
import dev.jlens.formats.Safetensors;
import dev.jlens.formats.Tensor;
import dev.jlens.kernels.WeightFormat;
import dev.jlens.kernels.Weights;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes an SAE as a SAELens directory: sae_weights.safetensors (W_enc [d_in, d_sae], W_dec in f32 or bf16; b_enc,
 * b_dec and, for JumpReLU, threshold always f32: SAELens' state dict keys of the architecture) and cfg.json with
 * apply_b_dec_to_input written explicitly. Matrices already in the target format and layout stream straight from
 * their mapping; others (another format, a W_enc stored transposed) are converted through a mapped temp file.
 * Each file is written atomically; cfg.json last, so a directory with cfg.json has its weights.
 */
public final class SaeWriter {
    private SaeWriter() {}

    public static void writeSaeLensDir(Sae sae, Path dir, WeightFormat matrices) throws IOException {
        Files.createDirectories(dir);
        List<TempMatrix> temps = new ArrayList<>();
        try {
            if (!sae.cfg().hookKnown())
                throw new IllegalArgumentException("SAE " + sae.source() + " has no known hook layer; SAELens' cfg.json needs hook_name: load it with a layer");
            MemorySegment enc = sae.wEncTransposed() ? transposed(sae.wEnc(), matrices, dir, temps) : matrixData(sae.wEnc(), matrices, dir, temps);
            MemorySegment dec = matrixData(sae.wDec(), matrices, dir, temps);
            DType dt = matrices == WeightFormat.F32 ? DType.F32 : DType.BF16;
            List<Tensor> tensors = new ArrayList<>(List.of(
                    new Tensor("W_enc", dt, new long[] {sae.dIn(), sae.dSae()}, enc),
                    new Tensor("W_dec", dt, new long[] {sae.dSae(), sae.dIn()}, dec),
                    new Tensor("b_enc", DType.F32, new long[] {sae.dSae()}, sae.bEnc()),
                    new Tensor("b_dec", DType.F32, new long[] {sae.dIn()}, sae.bDec())));
            if (sae.hasThreshold()) tensors.add(new Tensor("threshold", DType.F32, new long[] {sae.dSae()}, sae.threshold()));
            Safetensors.write(dir.resolve("sae_weights.safetensors"), tensors, Map.of("format", "pt"));
        } finally {
            for (TempMatrix t : temps) t.close();
        }
        sae.cfg().write(dir.resolve("cfg.json"));
    }

    /** W_enc^T [d_sae x d_in] as the C-order W_enc [d_in x d_sae] in format {@code to}, via a temp file. */
    private static MemorySegment transposed(Weights wt, WeightFormat to, Path dir, List<TempMatrix> temps) throws IOException {
        TempMatrix t = TempMatrix.transpose(wt, to, dir);
        temps.add(t);
        return t.data;
    }

    private static MemorySegment matrixData(Weights w, WeightFormat to, Path dir, List<TempMatrix> temps) throws IOException {
        if (w.format() == to) return w.data();
        TempMatrix t = TempMatrix.convert(w, to, dir);
        temps.add(t);
        return t.data;
    }
}
