package dev.jlens.toy;

import dev.jlens.sae.SaeRegistry;
import dev.jlens.toy.planted.PlantedFrance;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The embedded default of `jlens france`: the planted-concept toy model and its coarse and fine SAEs,
 * generated on first use into {@code <models>/generated/planted-france} (or {@code planted-france-unplanted}
 * for the control without the planted structure), with ground_truth.json next to them.
 *
 * <p>Which fine SAE the default toy has ({@link PlantedFrance.Variant}) is {@link #defaultVariant()}: the realistic one
 * (near-duplicates of the coarse France feature that match, facet features that fire only on their facet's prompts and
 * that the facet split names; issue 16 point 7), unless {@value #VARIANT_PROPERTY} says classic; the other variant
 * is generated on request into {@code planted-france-<variant>} (its SAEs are then named by path, the registry names
 * only the default folder's). A folder whose ground_truth.json records the other variant is regenerated.
 */
public final class ToyDefault {
    public static final long SEED = 20261125L;
    /** System property (or environment variable {@code JLENS_TOY_VARIANT}) choosing the default toy: classic or realistic. */
    public static final String VARIANT_PROPERTY = "jlens.toy.variant";
    private static final PlantedFrance.Variant BUILT_IN = PlantedFrance.Variant.REALISTIC;

    private ToyDefault() {}

    /**
     * The generated files, and the SAEs' ids in models/registry.json (release {@code jlens-toy}), through which
     * they load with their config (hook layer 12); for a non-default variant the ids are the files' paths.
     */
    public record Files(Path dir, Path model, Path coarseSae, Path fineSae, Path groundTruth, String coarseId, String fineId) {}

    /** The variant {@link #ensure(boolean, PrintWriter)} generates: {@value #VARIANT_PROPERTY} if set, else the built-in one. */
    public static PlantedFrance.Variant defaultVariant() {
        String v = System.getProperty(VARIANT_PROPERTY, System.getenv("JLENS_TOY_VARIANT"));
        if (v == null || v.isBlank()) return BUILT_IN;
        return parseVariant(v);
    }

    /** {@code classic} or {@code realistic}, any case. */
    public static PlantedFrance.Variant parseVariant(String v) {
        java.util.Objects.requireNonNull(v, "variant");
        for (PlantedFrance.Variant x : PlantedFrance.Variant.values()) if (x.name().equalsIgnoreCase(v.strip())) return x;
        throw new IllegalArgumentException("unknown toy variant '" + v + "': expected classic or realistic");
    }

    /** The default toy (planted, or its unplanted control), of {@link #defaultVariant()}. */
    public static Files ensure(boolean planted, PrintWriter log) throws IOException {
        return ensure(planted, defaultVariant(), log);
    }

    /** The toy with the fine SAE of {@code variant} (the unplanted control is the same for both). */
    public static Files ensure(boolean planted, PlantedFrance.Variant variant, PrintWriter log) throws IOException {
        java.util.Objects.requireNonNull(variant, "variant");
        // every toy is registered (models/registry.json, release jlens-toy), so its SAEs carry the registry's
        // model_name and hook like the default's; the variant that is not the default lives in its own folder
        String name = !planted ? "planted-france-unplanted"
                : variant == defaultVariant() ? "planted-france" : "planted-france-" + variant.name().toLowerCase(java.util.Locale.ROOT);
        Path dir = SaeRegistry.modelsDir().resolve("generated").resolve(name);
        Path coarse = dir.resolve("coarse/params.npz"), fine = dir.resolve("fine/params.npz");
        Files f = new Files(dir, dir.resolve("model.gguf"), coarse, fine, dir.resolve("ground_truth.json"),
                "jlens-toy/" + name + "/coarse", "jlens-toy/" + name + "/fine");
        // ground_truth.json is written last, so its presence means a complete set
        boolean complete = java.nio.file.Files.isRegularFile(f.groundTruth()) && java.nio.file.Files.isRegularFile(f.model())
                && java.nio.file.Files.isRegularFile(f.coarseSae()) && java.nio.file.Files.isRegularFile(f.fineSae());
        if (!complete || (planted && variant(f) != variant)) {
            if (log != null) {
                log.println("jlens: generating the " + (planted ? "planted" : "unplanted") + " France toy model and SAEs"
                        + (planted ? " (" + variant.name().toLowerCase(java.util.Locale.ROOT) + ")" : "") + " in " + dir
                        + (complete ? " (it held the other variant)" : " (first run only)"));
                log.flush();
            }
            PlantedFrance.generate(dir, planted, SEED, variant);
        }
        return f;
    }

    /**
     * The variant a generated toy's fine SAE has, from its ground_truth.json (facet-specific facet features: realistic);
     * CLASSIC for the unplanted control and for a ground truth written before the realistic variant existed.
     */
    public static PlantedFrance.Variant variant(Files toy) throws IOException {
        com.fasterxml.jackson.databind.JsonNode t = dev.jlens.util.Json.MAPPER.readTree(toy.groundTruth().toFile());
        return t.path("fine").path("facetSpecific").asBoolean(false) ? PlantedFrance.Variant.REALISTIC : PlantedFrance.Variant.CLASSIC;
    }

    /**
     * The toy atlas corpus: every shipped prompt (France, neutral, distractor sets, in that order) as one
     * document per line, written next to the toy model on first use. Line i is document i.
     */
    public static Path atlasCorpus(Files toy) throws IOException {
        Path corpus = toy.dir().resolve("atlas-corpus.txt");
        if (java.nio.file.Files.isRegularFile(corpus)) return corpus;
        StringBuilder sb = new StringBuilder();
        for (String set : dev.jlens.analysis.PromptSet.BUILTIN) {
            for (dev.jlens.analysis.PromptSet.Prompt p : dev.jlens.analysis.PromptSet.builtin(set).prompts()) {
                sb.append(p.text().replace('\n', ' ').replace('\r', ' ')).append('\n');
            }
        }
        dev.jlens.formats.AtomicFiles.writeString(corpus, sb.toString());
        return corpus;
    }
}
