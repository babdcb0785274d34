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
 */
public final class ToyDefault {
    public static final long SEED = 20261125L;

    private ToyDefault() {}

    /**
     * The generated files, and the SAEs' ids in models/registry.json (release {@code jlens-toy}), through which
     * they load with their config (hook layer 12).
     */
    public record Files(Path dir, Path model, Path coarseSae, Path fineSae, Path groundTruth, String coarseId, String fineId) {}

    public static Files ensure(boolean planted, PrintWriter log) throws IOException {
        Path dir = SaeRegistry.modelsDir().resolve("generated").resolve(planted ? "planted-france" : "planted-france-unplanted");
        String name = dir.getFileName().toString();
        Files f = new Files(dir, dir.resolve("model.gguf"), dir.resolve("coarse/params.npz"), dir.resolve("fine/params.npz"),
                dir.resolve("ground_truth.json"), "jlens-toy/" + name + "/coarse", "jlens-toy/" + name + "/fine");
        // ground_truth.json is written last, so its presence means a complete set
        if (!java.nio.file.Files.isRegularFile(f.groundTruth()) || !java.nio.file.Files.isRegularFile(f.model())
                || !java.nio.file.Files.isRegularFile(f.coarseSae()) || !java.nio.file.Files.isRegularFile(f.fineSae())) {
            if (log != null) {
                log.println("jlens: generating the " + (planted ? "planted" : "unplanted") + " France toy model and SAEs in " + dir + " (first run only)");
                log.flush();
            }
            PlantedFrance.generate(dir, planted, SEED);
        }
        return f;
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
