package dev.jlens.study;

import dev.jlens.util.Json;
import dev.jlens.util.RunFolder;

import dev.jlens.api.Classification;
import dev.jlens.api.FeaturePair;
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

    /**
     * Writes the report into {@code dir} under its {@link RunFolder} lock: report.html and the PNGs are written into a
     * staging folder and moved in together (report.html last), so a failure leaves the previous report or none.
     */
    public static void write(Path dir, ExperimentResult r, ReportModel.Steering steering) throws IOException {
        try (RunFolder folder = RunFolder.lock(dir)) {
            Path staging = folder.stage();
            try {
                writeFiles(staging, folder.dir(), r, steering);
                folder.commit(staging, "report.html");
            } finally {
                RunFolder.discard(staging);
            }
        }
    }

    /**
     * Writes report.html and the PNGs into {@code dir}; links (the atlas) are relative to {@code runDir}, where they will
     * live. Public for the steering study, which stages the report with its own outputs and commits them together.
     */
    public static void writeFiles(Path dir, Path runDir, ExperimentResult r, ReportModel.Steering steering) throws IOException {
        ReportModel m = model(r, steering, info -> atlasHref(runDir, r.config(), info));
        HtmlReport.write(dir, m);
        if (pngFiguresAvailable()) PngFigures.write(dir, m);
        else System.getLogger(ReportWriter.class.getName()).log(System.Logger.Level.INFO, "heatmap.png and scatter.png not written: "
                + "JFreeChart (an optional dependency of the library) or java.desktop is not available; report.html has the same figures");
    }

    /**
     * Whether the PNG figures can be drawn: JFreeChart and java.desktop are optional (module-info {@code requires static},
     * optional in the POM), so a library user may run without them. Checked before PngFigures loads, since that class
     * links against both.
     */
    static boolean pngFiguresAvailable() {
        Module self = ReportWriter.class.getModule();
        for (String name : new String[] {"org.jfree.chart.JFreeChart", "java.awt.Color"}) {
            try {
                Class<?> c = Class.forName(name, false, ReportWriter.class.getClassLoader());
                if (self.isNamed() && !self.canRead(c.getModule())) return false;
            } catch (ClassNotFoundException | LinkageError e) {
                return false;
            }
        }
        return true;
    }

    static ReportModel model(ExperimentResult r, ReportModel.Steering steering) {
        return model(r, steering, null);
    }

    /**
     * The feature atlas of an SAE for this run's report, if `jlens atlas` wrote one beside the run folder (a folder
     * under the run folder's parent, at most two levels down, whose atlas.json names the same model file hash,
     * SAE hash and layer): its atlas.html relative to the report, else null. The first match by path wins.
     */
    static String atlasHref(Path runDir, ExperimentResult.Config c, ExperimentResult.SaeInfo info) {
        Path run = runDir.toAbsolutePath().normalize();
        Path parent = run.getParent();
        if (parent == null || c.modelSha256() == null || info.sha256() == null) return null;
        java.util.List<Path> found = new java.util.ArrayList<>();
        try (java.util.stream.Stream<Path> w = java.nio.file.Files.find(parent, 3,
                (p, a) -> a.isRegularFile() && p.getFileName().toString().equals("atlas.json") && !p.startsWith(run))) {
            w.forEach(found::add);
        } catch (IOException | java.io.UncheckedIOException e) {
            return null;
        }
        found.sort(java.util.Comparator.comparing(Path::toString));
        for (Path meta : found) {
            try {
                com.fasterxml.jackson.databind.JsonNode n = Json.MAPPER.readTree(meta.toFile());
                if (!"jlens-atlas/1".equals(n.path("format").asText()) || !c.modelSha256().equals(n.path("model_sha256").asText())
                        || !info.sha256().equals(n.path("sae").path("sha256").asText()) || n.path("layer").asInt(-1) != c.layer()) continue;
                Path html = meta.resolveSibling("atlas.html");
                if (!java.nio.file.Files.isRegularFile(html)) continue;
                return run.relativize(html).toString().replace(java.io.File.separatorChar, '/');
            } catch (IOException | RuntimeException e) {
                // not an atlas we can read: no link
            }
        }
        return null;
    }

    static ReportModel model(ExperimentResult r, ReportModel.Steering steering,
                             java.util.function.Function<ExperimentResult.SaeInfo, String> atlas) {
        ExperimentResult.Config c = r.config();
        ReportModel.Config conf = new ReportModel.Config("jlens: " + c.hookName() + " of " + fileName(c.model()), c.model(), c.targetPrompts(),
                c.controlPrompts(), c.aggregate(), new ReportModel.Thresholds(c.minCosine(), c.minCorrelation(), c.minSubFeatures()));
        List<ReportModel.Sae> saes = List.of(
                sae("coarse " + width(c.coarseSae().dSae()), ReportModel.Resolution.COARSE, c.coarseSae(), r.coarse(), atlas),
                sae("fine " + width(c.fineSae().dSae()), ReportModel.Resolution.FINE, c.fineSae(), r.fine(), atlas));
        ExperimentResult.CrossMap x = r.crossmap();
        float[][] cos = new float[x.anchors().length][x.fines().length];
        for (int i = 0; i < cos.length; i++) for (int j = 0; j < cos[i].length; j++) cos[i][j] = (float) x.cosine()[i][j];
        ReportModel.CosineMatrix matrix = new ReportModel.CosineMatrix(x.anchors(), x.fines(), cos);
        Map<Long, FeaturePair> points = new LinkedHashMap<>();
        for (FeaturePair p : x.pairs()) points.put(((long) p.anchor() << 32) | p.fine(), p);
        List<ReportModel.AnchorSummary> anchors = new ArrayList<>();
        for (ExperimentResult.Anchor a : x.anchorSummaries()) {
            FeaturePair strongest = a.strongestFine() == null ? null : points.get(((long) a.anchor() << 32) | a.strongestFine());
            anchors.add(new ReportModel.AnchorSummary(a.anchor(), a.matches(), strongest));
        }
        List<ReportModel.CloudPoint> cloud = new ArrayList<>();
        for (ExperimentResult.PcaPoint p : r.pointCloud()) {
            ReportModel.Resolution res = p.resolution().equals("coarse") ? ReportModel.Resolution.COARSE : ReportModel.Resolution.FINE;
            cloud.add(new ReportModel.CloudPoint(p.feature(), res, p.x(), p.y(), p.z(), (res == ReportModel.Resolution.COARSE ? "C-" : "F-") + p.feature()));
        }
        List<ReportModel.Link> links = new ArrayList<>();
        for (FeaturePair p : points.values()) {
            if (p.classification() == Classification.MATCH) links.add(new ReportModel.Link(p.anchor(), p.fine()));
        }
        List<ReportModel.FacetSplitRow> split = new ArrayList<>();
        if (x.facetSplit() != null) { // null in results.json written before the facet split
            for (ExperimentResult.FacetSplitRow s : x.facetSplit()) {
                split.add(new ReportModel.FacetSplitRow(s.anchor(), s.fine(), s.facet(), s.facetShare(), s.fireRateTarget(), s.meanWhenFiring(),
                        s.cosine(), s.correlation(), s.targetCorrelation()));
            }
        }
        return new ReportModel(conf, saes, matrix, new ArrayList<>(points.values()), anchors,
                new ReportModel.PointCloud(cloud, links, r.pcaExplainedVariance()), r.verdict(), steering, split);
    }

    private static ReportModel.Sae sae(String name, ReportModel.Resolution res, ExperimentResult.SaeInfo info, ExperimentResult.SaeResult s,
                                       java.util.function.Function<ExperimentResult.SaeInfo, String> atlas) {
        ExperimentResult.Significance g = s.significance(); // null in results.json written before it was recorded
        ReportModel.Significance sig = g == null ? null : new ReportModel.Significance(g.test(), g.alpha(), g.tested(), g.smallestP(),
                g.smallestQ(), g.permutations(), g.permutationSmallestP(), g.significant(), g.confirmedByPermutation());
        return new ReportModel.Sae(name, res, info.dSae(), info.neuronpediaId(), s.topBySelectivity(), sig, atlas == null ? null : atlas.apply(info));
    }

    private static String width(int d) {
        return d % 1024 == 0 ? (d / 1024) + "k" : String.valueOf(d);
    }

    private static String fileName(String p) {
        return Path.of(p).getFileName().toString();
    }
}
