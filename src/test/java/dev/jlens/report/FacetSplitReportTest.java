package dev.jlens.report;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.report.ReportModel.FacetSplitRow;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The facet split section: rows escaped and linked, in the embedded JSON, and rows of unknown anchors refused. */
class FacetSplitReportTest {
    static ReportModel with(List<FacetSplitRow> rows) {
        ReportModel m = ReportFixture.model(false, true);
        return new ReportModel(m.config(), m.saes(), m.cosine(), m.scatter(), m.anchors(), m.cloud(), m.verdict(), m.steering(), rows);
    }

    @Test
    void splitRowsAreRenderedEscapedAndEmbedded() {
        int anchor = ReportFixture.ANCHORS[0];
        ReportModel m = with(List.of(new FacetSplitRow(anchor, 5318, "people", 1.0, 0.125, 12.17, 0.6, 0.25, -0.03),
                new FacetSplitRow(anchor, 6620, ReportFixture.XSS, 0.4, 0.15, 3.1, 0.5, 0.32, 0.1)));
        String html = HtmlReport.render(m, "/* plotly stand-in */");
        assertTrue(html.contains("id=\"facet-split\""));
        assertTrue(html.contains("<td>people</td><td class=\"num\">100.0%</td><td class=\"num\">12.5%</td><td class=\"num\">12.170</td>"
                + "<td class=\"num\">0.600</td><td class=\"num\">0.250</td><td class=\"num\">-0.030</td>"), html.substring(html.indexOf("facet-split")));
        assertTrue(html.contains("<a href=\"https://www.neuronpedia.org/" + ReportFixture.COARSE_NP + "/" + anchor + "\""), "anchors are linked");
        assertTrue(!html.contains("<td>" + ReportFixture.XSS + "</td>"), "facet text is escaped");
        JsonNode split = HtmlReport.toJsonTree(m).get("facetSplit");
        assertEquals(2, split.size());
        assertEquals("people", split.get(0).get("facet").asText());
        assertEquals(-0.03, split.get(0).get("targetCorrelation").asDouble(), 0);
    }

    @Test
    void withoutRowsTheSectionSaysSoAndUnknownAnchorsAreRefused() {
        assertTrue(HtmlReport.render(with(List.of()), "").contains("No fine feature splits off a facet of an anchor."));
        assertTrue(HtmlReport.render(ReportFixture.model(false, true), "").contains("No fine feature splits off a facet of an anchor."));
        var e = assertThrows(IllegalArgumentException.class, () -> with(List.of(new FacetSplitRow(424242, 1, "x", 1, 0.1, 1, 0.5, 0.1, 0))));
        assertTrue(e.getMessage().contains("anchor 424242"), e.getMessage());
    }
}
