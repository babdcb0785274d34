package dev.jlens.sae;

import dev.jlens.formats.DType;
import dev.jlens.formats.NpzWriter;
import dev.jlens.formats.Tensor;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Hand-made SAE files for known-answer and bad-input tests. */
final class SaeFixtures {
    private SaeFixtures() {}

    static Tensor t(String name, long[] shape, float... v) {
        return new Tensor(name, DType.F32, shape, MemorySegment.ofArray(v.clone()));
    }

    /**
     * The 2x3 SAE of the known-answer tests: W_enc = [[1,0,2],[0,1,-1]], b_enc = [0,0.5,0],
     * threshold = [0.5,1,0.1], W_dec = [[1,0],[0,1],[0.6,0.8]], b_dec = [0.1,-0.1].
     */
    static Map<String, Tensor> handMade() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("W_enc", t("W_enc", new long[] {2, 3}, 1, 0, 2, 0, 1, -1));
        m.put("W_dec", t("W_dec", new long[] {3, 2}, 1, 0, 0, 1, 0.6f, 0.8f));
        m.put("b_enc", t("b_enc", new long[] {3}, 0, 0.5f, 0));
        m.put("b_dec", t("b_dec", new long[] {2}, 0.1f, -0.1f));
        m.put("threshold", t("threshold", new long[] {3}, 0.5f, 1f, 0.1f));
        return m;
    }

    static Path write(Path dir, String name, Map<String, Tensor> members) throws IOException {
        Path layerDir = dir.resolve("layer_12").resolve(name);
        Path npz = layerDir.resolve("params.npz");
        NpzWriter.write(npz, members);
        return npz;
    }

    static EncoderOptions small() {
        return new EncoderOptions(2, 256, 4);
    }
}
