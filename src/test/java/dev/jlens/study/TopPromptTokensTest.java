package dev.jlens.study;

import dev.jlens.api.Experiment;
import dev.jlens.api.FeatureStats;
import dev.jlens.api.Toys;
import dev.jlens.llama.Model;
import dev.jlens.util.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-token values of the top prompts on a real toy France run (real llama.cpp capture, real SAE encode): every top
 * prompt of both tables of both SAEs carries one value per non-BOS token, the tokens spell the prompt, and the largest
 * token value is exactly the prompt's MAX aggregate (the same encoder and blocks as the aggregation); the report model
 * built from the result holds them.
 */
class TopPromptTokensTest {
    @TempDir Path dir;

    @Test
    void everyTopPromptHasItsTokensAndTheMaxTokenValueIsItsAggregate() throws Exception {
        Toys.PlantedFrance toy = Toys.plantedFrance(true, null);
        Experiment.Settings settings = Experiment.Settings.builder().permutations(50).threads(2).cacheDir(dir.resolve("cache")).build();
        ConceptExperiment.Outcome o = ConceptExperiment.run(new ExperimentConfig(toy.model(), toy.coarseSae(), toy.fineSae(), dir.resolve("run"), settings),
                Progress.NONE);
        ExperimentResult r = o.result();
        assertEquals("max", r.config().aggregate());
        int checked = 0;
        try (Model model = Model.load(toy.model())) {
            for (ExperimentResult.SaeResult s : List.of(r.coarse(), r.fine())) {
                for (List<FeatureStats> table : List.of(s.topBySelectivity(), s.topByEffectSize())) {
                    for (FeatureStats f : table) {
                        for (FeatureStats.TopPrompt p : f.topPrompts()) {
                            int[] ids = model.vocab().tokenize(p.text());
                            int bos = ids.length > 0 && model.vocab().isBos(ids[0]) ? 1 : 0;
                            assertEquals(ids.length - bos, p.tokens().size(), "tokens of prompt " + p.prompt() + " (BOS left out)");
                            assertEquals(p.tokens().size(), p.tokenValues().size());
                            assertEquals(p.text(), String.join("", p.tokens()).strip(), "the tokens spell the prompt");
                            double max = 0;
                            for (double v : p.tokenValues()) {
                                assertTrue(v >= 0 && Double.isFinite(v), "token value " + v);
                                max = Math.max(max, v);
                            }
                            assertEquals(p.value(), max, 0, "feature " + f.feature() + ", prompt " + p.prompt() + ": max token value vs aggregate");
                            checked++;
                        }
                    }
                }
            }
        }
        assertTrue(checked > 500, "top prompts checked: " + checked);
        // the report model carries them to the page
        FeatureStats first = ReportWriter.model(r, null).saes().get(1).topFeatures().get(0);
        assertFalse(first.topPrompts().get(0).tokenValues().isEmpty());
    }
}
