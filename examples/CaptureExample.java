import dev.jlens.api.FeatureActivations;
import dev.jlens.api.LayerActivations;
import dev.jlens.api.LensModel;
import dev.jlens.api.LensSession;
import dev.jlens.api.NativeRuntime;
import dev.jlens.api.SparseAutoencoder;

import java.nio.file.Path;
import java.util.List;

/**
 * A plain Java program using jlens as a library: captures layer 12 for three prompts, encodes the rows with an
 * SAE and prints each prompt's strongest features (BOS rows skipped, max over the prompt's tokens).
 *
 *   java --module-path jlens.jar:lib --add-modules dev.jlens --enable-native-access=dev.jlens \
 *        CaptureExample.java MODEL.gguf SAE   (SAE: params.npz, SAELens dir, or release/sae_id)
 */
public class CaptureExample {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        String sae = args[1];
        List<String> prompts = List.of("The capital of France is Paris.", "Croissants and cheese for breakfast.", "The weather is mild today.");
        try (LensModel m = LensModel.load(model);
             LensSession s = m.newSession(512, 2);
             LayerActivations x = s.capture(prompts, 12);
             SparseAutoencoder enc = SparseAutoencoder.load(sae)) {
            FeatureActivations f = enc.encode(x);
            for (int p = 0; p < prompts.size(); p++) {
                java.util.Map<Integer, Float> best = new java.util.TreeMap<>();
                for (int r = 0; r < x.rows(); r++) {
                    if (x.prompt(r) != p || x.isBos(r)) continue;
                    for (FeatureActivations.Feature ft : f.top(r, 5)) best.merge(ft.feature(), ft.activation(), Math::max);
                }
                StringBuilder line = new StringBuilder("prompt " + p + " top features:");
                best.entrySet().stream().sorted((a, b) -> Float.compare(b.getValue(), a.getValue())).limit(5)
                        .forEach(e -> line.append(String.format(" #%d=%.2f", e.getKey(), e.getValue())));
                System.out.println(line);
            }
            System.out.println("captured " + x.rows() + " rows of layer " + x.layer() + " (d_model " + x.dModel() + ")");
        }
        NativeRuntime n = NativeRuntime.load(); // already loaded by LensModel.load: describes that build
        System.out.println("llama.cpp from " + n.directory() + ", CPU backend " + n.cpuBackend());
    }
}
