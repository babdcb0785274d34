package dev.jlens.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.report.ReportModel.Sae;
import dev.jlens.report.ReportModel.Significance;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report states how low each table's q-values could go, so "not significant" is not confused with "could not be". */
class SignificanceReportTest {
    static final String TEST = "two-sided Mann-Whitney U, Benjamini-Hochberg";

    /** The fixture with a significance block on the coarse SAE only. */
    static ReportModel withSignificance(Significance coarse) {
        ReportModel m = ReportFixture.model(false, true);
        List<Sae> saes = new ArrayList<>();
        for (Sae s : m.saes()) {
            saes.add(new Sae(s.name(), s.resolution(), s.width(), s.neuronpediaId(), s.topFeatures(),
                    s.resolution() == ReportModel.Resolution.COARSE ? coarse : null));
        }
        return new ReportModel(m.config(), saes, m.cosine(), m.scatter(), m.anchors(), m.cloud(), m.verdict(), m.steering());
    }

    @Test
    void reportShowsTheSmallestReachableQAndThePermutationCheck() {
        // 200 vs 200 prompts: p >= 9.18e-89; 5321 tested features: a lone separated feature gets q = 4.89e-85,
        // where 1000 permutations alone could not go below min(1, 5321 / 1001) = 1
        Significance g = new Significance(TEST, 0.05, 5321, 9.182598395744396e-89, 5321 * 9.182598395744396e-89, 1000, 1 / 1001.0, 41, 39);
        String html = HtmlReport.render(withSignificance(g), "/* plotly stand-in */");
        assertTrue(html.contains("The smallest p-value the test can reach with these prompts is <b>9.2e-89</b>"), html.substring(0, 2000));
        assertTrue(html.contains("the smallest reachable q is <b>4.9e-85</b> for a lone perfectly separated feature among the 5321 tested"));
        assertTrue(html.contains("41 features have q &lt; 0.050"));
        assertTrue(html.contains("(1000 relabelings, p &ge; 1.0e-03, which alone could reach q = 1.0000) also puts 39 of them below p = 0.050"));
        assertEquals(1, count(html, "class=\"significance\""), "only the coarse table has the block");

        JsonNode saes = HtmlReport.toJsonTree(withSignificance(g)).get("saes");
        JsonNode s = saes.get(0).get("significance");
        assertEquals(9.182598395744396e-89, s.get("smallestP").asDouble(), 0);
        assertEquals(5321 * 9.182598395744396e-89, s.get("smallestQ").asDouble(), 0);
        assertEquals(39, s.get("confirmed").asInt());
        assertTrue(saes.get(1).get("significance").isNull());
    }

    @Test
    void withoutSignificanceTheBlockIsAbsent() {
        assertFalse(HtmlReport.render(ReportFixture.model(false, true), "/* plotly stand-in */").contains("class=\"significance\""));
    }

    @Test
    void inconsistentCountsAndOutOfRangeValuesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new Significance(TEST, 0.05, 10, 1e-9, 1e-8, 100, 1 / 101.0, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> new Significance(TEST, 0.05, 10, 1e-9, 1e-8, 100, 1 / 101.0, 11, 0));
        assertThrows(IllegalArgumentException.class, () -> new Significance(TEST, 0.05, 10, -1e-9, 1e-8, 100, 1 / 101.0, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new Significance(TEST, 0.0, 10, 1e-9, 1e-8, 100, 1 / 101.0, 1, 0));
        assertEquals(10 / 101.0, new Significance(TEST, 0.05, 10, 1e-9, 1e-8, 100, 1 / 101.0, 1, 0).permutationSmallestQ(), 1e-15);
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) n++;
        return n;
    }
}
