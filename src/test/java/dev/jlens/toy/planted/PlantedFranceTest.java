package dev.jlens.toy.planted;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.analysis.CrossResolutionMap;
import dev.jlens.analysis.FacetProfile;
import dev.jlens.analysis.FeatureContrast;
import dev.jlens.analysis.PromptSet;
import dev.jlens.formats.GgufFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlantedFranceTest {
    static final long SEED = 7;
    @TempDir static Path tmp;
    static PlantedFrance.Model model;
    static PlantedFrance.Generated files;

    @BeforeAll
    static void generate() throws Exception {
        model = PlantedFrance.model(true, SEED);
        files = PlantedFrance.generate(tmp.resolve("planted"), model);
    }

    @Test
    void plantedModelRecoversTheGroundTruthThroughTheWholeExperiment() throws Exception {
        long t0 = System.nanoTime();
        PlantedPipeline.Outcome o = PlantedPipeline.run(model, files, 3);
        System.out.printf("pipeline %.1f s%n", (System.nanoTime() - t0) / 1e9);
        GroundTruth gt = files.truth();
        for (FeatureContrast a : o.anchors()) System.out.println("anchor " + a);
        for (FeatureContrast f : o.fines().subList(0, 14)) System.out.println("fine " + f);
        for (CrossResolutionMap.Pair p : o.map().pairs()) {
            if (p.anchor() == gt.coarse().franceFeature() && p.classification() != CrossResolutionMap.Classification.UNRELATED) System.out.println(p);
        }
        for (FacetProfile p : o.profiles()) if (gt.fine().facetFeatures().containsValue(p.feature())) System.out.println(p);
        System.out.println(o.map().verdict());
    }

    @Test
    void unplantedDiag() throws Exception {
        PlantedFrance.Model m = PlantedFrance.model(false, SEED);
        PlantedFrance.Generated g = PlantedFrance.generate(tmp.resolve("unplanted"), m);
        long t0 = System.nanoTime();
        PlantedPipeline.Outcome o = PlantedPipeline.run(m, g, 5);
        System.out.printf("unplanted pipeline %.1f s%n", (System.nanoTime() - t0) / 1e9);
        for (FeatureContrast a : o.anchors()) System.out.println("U anchor " + a);
        for (CrossResolutionMap.AnchorSummary a : o.map().anchors()) System.out.println("U " + a);
        System.out.println("U " + o.map().verdict());
    }
}
