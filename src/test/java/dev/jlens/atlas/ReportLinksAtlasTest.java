package dev.jlens.atlas;

import dev.jlens.api.Atlas;
import dev.jlens.api.Experiment;
import dev.jlens.api.ProgressListener;
import dev.jlens.api.Toys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The France report links each top feature to its page in the feature atlas when `jlens atlas` wrote one for that
 * SAE (same model file, SAE file and layer) beside the run folder, and links nothing for an SAE without one.
 */
class ReportLinksAtlasTest {
    @TempDir Path tmp;

    @Test
    void franceReportLinksTopFeaturesToTheirAtlasPages() throws Exception {
        Toys.PlantedFrance toy = Toys.plantedFrance(true, null);
        Atlas.Toy at = Atlas.toy(null);
        Path runs = tmp.resolve("runs");
        // an atlas of the coarse SAE only (a small corpus prefix is enough for the link)
        Atlas.run(at.model(), List.of(toy.coarseSae()), at.corpus().toString(), runs.resolve("atlas-coarse"),
                Atlas.Options.defaults().withMaxTokens(600).withThreads(2), null);
        Path run = runs.resolve("france");
        Experiment.run(toy.model(), toy.coarseSae(), toy.fineSae(), run, Experiment.Settings.builder().permutations(50).build(), ProgressListener.NONE);
        String html = Files.readString(run.resolve("report.html"));
        Matcher m = Pattern.compile("<a class=\"atlas-link\" href=\"([^\"]+)#feature=(\\d+)\"").matcher(html);
        int links = 0;
        boolean france = false;
        while (m.find()) {
            links++;
            assertEquals("../atlas-coarse/atlas.html", m.group(1));
            assertTrue(Files.isRegularFile(run.resolve(m.group(1)).normalize()));
            france |= m.group(2).equals(String.valueOf(dev.jlens.toy.planted.PlantedFrance.COARSE_FRANCE));
        }
        assertTrue(links > 0, "no atlas links in the report");
        assertTrue(france, "the planted France feature links to its atlas page");
        // the fine SAE has no atlas: none of its rows link (every link goes to the coarse atlas, checked above)
        assertFalse(html.contains("atlas-fine"));
    }
}
