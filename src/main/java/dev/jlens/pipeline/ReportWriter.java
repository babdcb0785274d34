package dev.jlens.pipeline;

import dev.jlens.report.HtmlReport;
import dev.jlens.report.PngFigures;
import dev.jlens.report.ReportModel;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns results.json's content into the report: report.html (self-contained) and heatmap.png / scatter.png. */
public final class ReportWriter {
    private ReportWriter() {}

    public static void write(Path dir, ExperimentResult r) throws IOException {
        write(dir, r, null);
    }

    public static void write(Path dir, ExperimentResult r, ReportModel.Steering steering) throws IOException {
        ReportModel m = model(r, steering);
        HtmlReport.write(dir, m);
        PngFigures.write(dir, m);
    }

    static ReportModel model(ExperimentResult r, ReportModel.Steering steering) {
        ExperimentResult.Config c = r.config();
        ReportModel.Config conf = new ReportModel.Config("jlens: " + c.hookName() + " of " + fileName(c.model()), c.model(), c.targetPrompts(),
                c.controlPrompts(), c.aggregate(), new ReportModel.Thresholds(c.minCosine(), c.minCorrelation(), c.minSubFeatures()));
        List<ReportModel.Sae> saes = List.of(
                sae("coarse " + width(c.coarseSae().dSae()), ReportModel.Resolution.COARSE, c.coarseSae(), r.coarse()),
                sae("fine " + width(c.fineSae().dSae()), ReportModel.Resolution.FINE, c.fineSae(), r.fine()));
        ExperimentResult.CrossMap x = r.crossmap();
        float[][] cos = new float[x.anchors().length][x.fines().length];
        for (int i = 0; i < cos.length; i++) for (int j = 0; j < cos[i].length; j++) cos[i][j] = (float) x.cosine()[i][j];
        ReportModel.CosineMatrix matrix = new ReportModel.CosineMatrix(x.anchors(), x.fines(), cos);
        Map<Long, ReportModel.ScatterPoint> points = new LinkedHashMap<>();
        for (ExperimentResult.Pair p : x.pairs()) {
            points.put(((long) p.anchor() << 32) | p.fine(), new ReportModel.ScatterPoint(p.anchor(), p.fine(), p.correlation(), p.cosine(),
                    ReportModel.Classification.valueOf(p.classification())));
        }
        List<ReportModel.AnchorSummary> anchors = new ArrayList<>();
        for (ExperimentResult.Anchor a : x.anchorSummaries()) {
            ReportModel.ScatterPoint strongest = a.strongestFine() == null ? null : points.get(((long) a.anchor() << 32) | a.strongestFine());
            anchors.add(new ReportModel.AnchorSummary(a.anchor(), a.matches(), strongest));
        }
        List<ReportModel.CloudPoint> cloud = new ArrayList<>();
        for (ExperimentResult.PcaPoint p : r.pointCloud()) {
            ReportModel.Resolution res = p.resolution().equals("coarse") ? ReportModel.Resolution.COARSE : ReportModel.Resolution.FINE;
            cloud.add(new ReportModel.CloudPoint(p.feature(), res, p.x(), p.y(), p.z(), (res == ReportModel.Resolution.COARSE ? "C-" : "F-") + p.feature()));
        }
        List<ReportModel.Link> links = new ArrayList<>();
        for (ReportModel.ScatterPoint p : points.values()) {
            if (p.classification() == ReportModel.Classification.MATCH) links.add(new ReportModel.Link(p.anchor(), p.fine()));
        }
        ExperimentResult.Verdict v = r.verdict();
        ReportModel.Verdict verdict = new ReportModel.Verdict(ReportModel.Decision.valueOf(v.decision()), v.anchor(), v.matches(), v.required(), v.reason());
        List<ReportModel.FacetSplitRow> split = new ArrayList<>();
        if (x.facetSplit() != null) { // null in results.json written before the facet split
            for (ExperimentResult.FacetSplitRow s : x.facetSplit()) {
                split.add(new ReportModel.FacetSplitRow(s.anchor(), s.fine(), s.facet(), s.facetShare(), s.fireRateTarget(), s.meanWhenFiring(),
                        s.cosine(), s.correlation(), s.targetCorrelation()));
            }
        }
        return new ReportModel(conf, saes, matrix, new ArrayList<>(points.values()), anchors,
                new ReportModel.PointCloud(cloud, links, r.pcaExplainedVariance()), verdict, steering, split);
    }

    private static ReportModel.Sae sae(String name, ReportModel.Resolution res, ExperimentResult.SaeInfo info, ExperimentResult.SaeResult s) {
        List<ReportModel.Feature> rows = new ArrayList<>();
        for (ExperimentResult.Feature f : s.topBySelectivity()) {
            List<ReportModel.TopPrompt> top = f.topPrompts().stream().map(t -> new ReportModel.TopPrompt(t.text(), t.value())).toList();
            rows.add(new ReportModel.Feature(f.feature(), f.selectivity(), f.meanTarget(), f.meanControl(), f.fireRateTarget(), f.fireRateControl(),
                    f.auroc(), f.qValue(), f.effectSize(), f.likelyFacet() == null ? "none" : f.likelyFacet(), top));
        }
        ExperimentResult.Significance g = s.significance(); // null in results.json written before it was recorded
        ReportModel.Significance sig = g == null ? null : new ReportModel.Significance(g.test(), g.alpha(), g.tested(), g.smallestP(),
                g.smallestQ(), g.permutations(), g.permutationSmallestP(), g.significant(), g.confirmedByPermutation());
        return new ReportModel.Sae(name, res, info.dSae(), info.neuronpediaId(), rows, sig);
    }

    private static String width(int d) {
        return d % 1024 == 0 ? (d / 1024) + "k" : String.valueOf(d);
    }

    private static String fileName(String p) {
        return Path.of(p).getFileName().toString();
    }
}
