package dev.jlens.report;

import dev.jlens.api.Classification;
import dev.jlens.api.FeaturePair;
import dev.jlens.api.FeatureStats;
import dev.jlens.api.FeatureStats.TopPrompt;

import dev.jlens.report.ReportModel.AnchorSummary;
import dev.jlens.report.ReportModel.CloudPoint;
import dev.jlens.report.ReportModel.CosineMatrix;
import dev.jlens.report.ReportModel.Curve;
import dev.jlens.report.ReportModel.Link;
import dev.jlens.report.ReportModel.PointCloud;
import dev.jlens.report.ReportModel.Resolution;
import dev.jlens.report.ReportModel.Sae;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportModelTest {
    private static IllegalArgumentException rejects(org.junit.jupiter.api.function.Executable e, String fragment) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(fragment), () -> "message '" + ex.getMessage() + "' lacks '" + fragment + "'");
        return ex;
    }

    @Test
    void neuronpediaUrlFollowsTheIdOrIsAbsent() {
        Sae with = new Sae("c", Resolution.COARSE, 16384, "gemma-2-2b/12-gemmascope-res-16k", List.of());
        assertEquals("https://www.neuronpedia.org/gemma-2-2b/12-gemmascope-res-16k/3999", with.neuronpediaUrl(3999));
        assertNull(new Sae("f", Resolution.FINE, 10, null, List.of()).neuronpediaUrl(3));
    }

    @Test
    void neuronpediaIdThatCouldBreakOutOfTheUrlIsRejected() {
        for (String bad : new String[] {"gemma\"onmouseover=x", "../../evil", "a//b", "", "a b", "a/b/"}) {
            rejects(() -> new Sae("c", Resolution.COARSE, 10, bad, List.of()), "neuronpedia_id");
        }
    }

    @Test
    void featureBeyondTheSaeWidthIsRejected() {
        FeatureStats f = ReportFixture.row(512, 0.9, 1, 0, 0.5, 0, 0.9, 0.01, 2, "cuisine", List.of());
        rejects(() -> new Sae("toy", Resolution.COARSE, 512, null, List.of(f)), "feature 512 >= width 512");
    }

    @Test
    void moreThanFiveTopPromptsAreRejected() {
        List<TopPrompt> six = Collections.nCopies(6, ReportFixture.top("x", 1));
        FeatureStats f = ReportFixture.row(1, 0.9, 1, 0, 0.5, 0, 0.9, 0.01, 2, "cuisine", six);
        rejects(() -> new Sae("toy", Resolution.COARSE, 512, null, List.of(f)), "6 top prompts, at most 5");
    }

    @Test
    void cosineMatrixShapeMustMatchItsLabels() {
        rejects(() -> new CosineMatrix(new int[] {1, 2}, new int[] {5}, new float[][] {{0.1f}}), "1 rows for 2 anchors");
        rejects(() -> new CosineMatrix(new int[] {1}, new int[] {5, 6}, new float[][] {{0.1f}}), "cosine row 0 has 1 values for 2");
        rejects(() -> new CosineMatrix(new int[] {1, 1}, new int[] {5}, new float[][] {{0.1f}, {0.2f}}), "lists feature 1 twice");
    }

    @Test
    void cosineMatrixIsCopiedOnTheWayInAndOut() {
        float[][] c = {{0.5f}};
        CosineMatrix m = new CosineMatrix(new int[] {1}, new int[] {2}, c);
        c[0][0] = 9;
        m.cosine()[0][0] = 7;
        assertEquals(0.5f, m.at(0, 0));
    }

    @Test
    void scatterPointOutsideTheMatrixIsRejected() {
        ReportModel ok = ReportFixture.model(false, true);
        List<FeaturePair> scatter = new ArrayList<>(ok.scatter());
        scatter.add(new FeaturePair(3999, 77, 0.1, 0.1, Classification.UNRELATED, 0.1));
        rejects(() -> new ReportModel(ok.config(), ok.saes(), ok.cosine(), scatter, ok.anchors(), ok.cloud(), ok.verdict(), null),
                "(3999, 77) is not a cell");
    }

    @Test
    void linkToAFeatureMissingFromTheCloudIsRejected() {
        CloudPoint a = new CloudPoint(1, Resolution.COARSE, 0, 0, 0, "a");
        CloudPoint f = new CloudPoint(2, Resolution.FINE, 1, 1, 1, "f");
        new PointCloud(List.of(a, f), List.of(new Link(1, 2)), new double[] {0.5, 0.3, 0.1});
        rejects(() -> new PointCloud(List.of(a, f), List.of(new Link(2, 1)), new double[] {0.5, 0.3, 0.1}), "link (2, 1)");
    }

    @Test
    void strongestMatchMustBelongToItsAnchor() {
        FeaturePair p = new FeaturePair(5, 9, 0.7, 0.6, Classification.MATCH, 0.7);
        rejects(() -> new AnchorSummary(4, 1, p), "belongs to anchor 5");
        rejects(() -> new AnchorSummary(5, 0, p), "no matches but a strongest");
    }

    @Test
    void steeringCurveArraysMustAgreeInLength() {
        rejects(() -> new Curve("c", new double[] {0, 1}, new double[] {0.1, 0.2}, new double[] {0}, new double[] {0.3, 0.4}),
                "lengths 2/2/1/2 differ");
    }

    @Test
    void nonFiniteMeasurementsAreAcceptedForRendering() {
        FeatureStats f = ReportFixture.row(1, Double.NaN, Double.POSITIVE_INFINITY, 0, 0.5, 0, 0.9, Double.NaN, Double.NaN, "none", List.of());
        assertTrue(Double.isNaN(f.effectSize()));
    }
}
