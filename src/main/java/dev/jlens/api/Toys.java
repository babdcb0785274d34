package dev.jlens.api;

import dev.jlens.kernels.WeightFormat;
import dev.jlens.toy.ToyDefault;
import dev.jlens.toy.ToyModelJob;
import dev.jlens.sae.ToySae;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;

/**
 * Models and SAEs jlens generates itself, for tests, demos and benchmarks where real weights are not at hand: the
 * planted-concept France toy (a gemma2 GGUF and two SAEs with a known right answer), random gemma2 GGUFs, and random
 * JumpReLU SAEs. Everything is deterministic for a given seed. Methods may run on any thread; two calls writing the
 * same path at the same time are not supported.
 */
public final class Toys {
    private Toys() {}

    /**
     * The planted France toy, as {@link Experiment#run} takes it.
     *
     * @param dir         the folder holding the files
     * @param model       the gemma2 GGUF
     * @param coarseSae   registry id of the 512-wide coarse SAE (hook layer 12)
     * @param fineSae     registry id of the 8192-wide fine SAE
     * @param groundTruth {@code ground_truth.json}: which features carry the concept and its facets
     */
    public record PlantedFrance(Path dir, Path model, String coarseSae, String fineSae, Path groundTruth) {}

    /**
     * The planted France toy model and its SAEs under the models folder ({@code generated/planted-france}, or
     * {@code generated/planted-france-unplanted} when {@code planted} is false: the same shapes without the planted
     * structure, where the experiment should say NO-GO). Generated on first use (seconds to a minute), then reused;
     * a line goes to {@code log} (may be null) before generating. The models folder is {@code -Djlens.models.dir}, else
     * {@code JLENS_MODELS_DIR}, else {@code models} under {@code -Djlens.project.dir}, else {@code models} in the working
     * directory. The fine SAE is that of the default variant ({@code -Djlens.toy.variant} or {@code JLENS_TOY_VARIANT},
     * else {@code realistic}).
     *
     * @param planted true for the toy with the planted France concept, false for its unplanted control
     * @param log     gets one line before the files are generated, or null for none
     * @return the folder, model file, the two SAEs' registry ids and the ground truth file
     * @throws IllegalArgumentException when the variant property names no variant
     * @throws IOException when the files cannot be written or the existing ones cannot be read
     */
    public static PlantedFrance plantedFrance(boolean planted, PrintWriter log) throws IOException {
        ToyDefault.Files f = ToyDefault.ensure(planted, log);
        return new PlantedFrance(f.dir(), f.model(), f.coarseId(), f.fineId(), f.groundTruth());
    }

    /**
     * As {@link #plantedFrance(boolean, PrintWriter)} with the fine SAE of {@code variant}: {@code classic} (facet
     * features on every France prompt, which the post's rule matches) or {@code realistic} (near-duplicates of the
     * coarse France feature that match, and facet features only on their facet's prompts, which the facet split
     * names). The variant that is not the default lives in {@code generated/planted-france-<variant>}; its SAEs too
     * load by registry id ({@code jlens-toy/planted-france-<variant>/coarse}, {@code .../fine}). Another variant name
     * throws IllegalArgumentException.
     *
     * @param planted true for the toy with the planted France concept, false for its unplanted control (the same
     *                files for both variants)
     * @param variant {@code classic} or {@code realistic}, any case
     * @param log     gets one line before the files are generated, or null for none
     * @return the folder, model file, the two SAEs' registry ids and the ground truth file
     * @throws NullPointerException when {@code variant} is null
     * @throws IllegalArgumentException when {@code variant} is neither {@code classic} nor {@code realistic}
     * @throws IOException when the files cannot be written or the existing ones cannot be read
     */
    public static PlantedFrance plantedFrance(boolean planted, String variant, PrintWriter log) throws IOException {
        ToyDefault.Files f = ToyDefault.ensure(planted, ToyDefault.parseVariant(variant), log);
        return new PlantedFrance(f.dir(), f.model(), f.coarseId(), f.fineId(), f.groundTruth());
    }

    /**
     * A generated model file.
     *
     * @param path    the GGUF written
     * @param layers  transformer blocks
     * @param dModel  residual stream width
     * @param vocab   vocabulary size
     * @param type    ggml type of the matrices ({@code F32}, {@code F16}, {@code Q8_0}, {@code Q4_0}); norms stay F32
     * @param seconds wall time of the write, whole seconds
     */
    public record ModelFile(Path path, int layers, int dModel, int vocab, String type, long seconds) {}

    /**
     * Writes a random-weight gemma2 GGUF to {@code out}. {@code kind}: {@code tiny} (14 layers, d_model 64, a
     * vocabulary covering the shipped prompts: fast tests) or {@code gemma2-2b-shape} (Gemma 2 2B's exact shapes, for
     * benchmarks; several GB). {@code type}: {@code f32}, {@code f16}, {@code q8_0} or {@code q4_0} (quantized with
     * ggml's own quantizer). An unknown kind or type throws IllegalArgumentException.
     *
     * @param out  the GGUF file to write (replaced when it exists)
     * @param kind {@code tiny} or {@code gemma2-2b-shape} (also {@code 2b}), any case
     * @param type {@code f32}, {@code f16}, {@code q8_0} or {@code q4_0}, any case: the matrices' type
     * @param seed generator seed; every tensor is seeded from it and its name, so a seed always gives the same file
     * @return the file written with its shapes, type and write time
     * @throws IllegalArgumentException when {@code kind} or {@code type} is unknown
     * @throws IOException when the file cannot be written
     */
    public static ModelFile writeModel(Path out, String kind, String type, long seed) throws IOException {
        ToyModelJob.Result r = ToyModelJob.write(out, ToyModelJob.Kind.parse(kind), ToyModelJob.parseType(type), seed);
        return new ModelFile(r.path(), r.config().nLayer(), r.config().nEmbd(), r.config().nVocab(), String.valueOf(r.type()), r.seconds());
    }

    /**
     * A random JumpReLU SAE: unit-norm random decoder rows, {@code W_enc} = {@code W_dec}ᵀ, thresholds set so that an
     * input with unit per-dimension standard deviation activates about {@code targetL0} features. Matrices are generated
     * in chunks through memory-mapped temporary files next to the output, so full Gemma Scope sizes (2304 x 262144)
     * can be written. Validated on construction (IllegalArgumentException).
     *
     * @param dIn      input width (the model's d_model), > 0
     * @param dSae     number of features, > 0
     * @param seed     generator seed
     * @param targetL0 expected active features per random input, in (0, dSae)
     * @param layer    hook layer written into the SAE's config ({@code blocks.layer.hook_resid_post}), >= 0
     */
    public record RandomSae(int dIn, int dSae, long seed, double targetL0, int layer) {
        /** Validates the shape, L0 and layer with the generator's own rules. */
        public RandomSae {
            builder(dIn, dSae, seed, targetL0, layer); // the generator's own checks
        }

        /**
         * A random SAE hooked at layer 12 (Gemma Scope's layer).
         *
         * @param dIn      input width (the model's d_model), &gt; 0
         * @param dSae     number of features, &gt; 0
         * @param seed     generator seed
         * @param targetL0 expected active features per random input, in (0, dSae)
         * @throws IllegalArgumentException when a value is out of its range
         */
        public RandomSae(int dIn, int dSae, long seed, double targetL0) { this(dIn, dSae, seed, targetL0, 12); }

        /**
         * Writes a Gemma Scope {@code params.npz} (W_enc, W_dec, b_enc, b_dec, threshold; all float32). To load it by
         * path, put it under a {@code layer_N} folder (that is how Gemma Scope files name their layer).
         *
         * @param npz the file to write; its folder is created when missing and also holds the temporary matrices
         *            (about {@code 8 * dIn * dSae} bytes) while writing
         * @throws IOException when the file or the temporary matrices cannot be written
         */
        public void writeGemmaScopeNpz(Path npz) throws IOException {
            builder(dIn, dSae, seed, targetL0, layer).writeGemmaScopeNpz(npz);
        }

        /**
         * Writes a SAELens directory ({@code cfg.json} + {@code sae_weights.safetensors}); {@code bf16}: matrices in
         * bfloat16 (biases and thresholds stay float32), else float32.
         *
         * @param dir  the SAELens directory, created when missing; also holds a temporary {@code params.npz} while writing
         * @param bf16 true for bfloat16 matrices, false for float32
         * @throws IOException when a file cannot be written
         */
        public void writeSaeLensDir(Path dir, boolean bf16) throws IOException {
            builder(dIn, dSae, seed, targetL0, layer).writeSaeLensDir(dir, bf16 ? WeightFormat.BF16 : WeightFormat.F32);
        }

        private static ToySae.Builder builder(int dIn, int dSae, long seed, double targetL0, int layer) {
            return ToySae.builder(dIn, dSae, seed).targetL0(targetL0).layer(layer);
        }
    }
}
