package dev.jlens.report;

import dev.jlens.api.Classification;
import dev.jlens.api.Decision;
import dev.jlens.api.FeaturePair;
import dev.jlens.api.FeatureStats;
import dev.jlens.api.FeatureStats.TopPrompt;
import dev.jlens.api.Verdict;

import dev.jlens.report.ReportModel.AnchorSummary;
import dev.jlens.report.ReportModel.CloudPoint;
import dev.jlens.report.ReportModel.Config;
import dev.jlens.report.ReportModel.CosineMatrix;
import dev.jlens.report.ReportModel.Curve;
import dev.jlens.report.ReportModel.Generation;
import dev.jlens.report.ReportModel.Link;
import dev.jlens.report.ReportModel.PointCloud;
import dev.jlens.report.ReportModel.Resolution;
import dev.jlens.report.ReportModel.Sae;
import dev.jlens.report.ReportModel.Steering;
import dev.jlens.report.ReportModel.Thresholds;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A report model shaped like a real run (16k coarse / 262k fine Gemma Scope SAEs, 200 + 200 prompts), with
 * hostile text (script tags, quotes, U+2028) in prompts, labels and generations, and some non-finite numbers.
 */
final class ReportFixture {
    static final String COARSE_NP = "gemma-2-2b/12-gemmascope-res-16k";
    static final String XSS = "<script>alert(1)</script>";
    static final String QUOTES = "He said \"quotes\" & 'apostrophes'";
    static final String CLOSER = "ends early </script> or <!-- not";
    static final String LINE_SEP = "line\u2028separator\u2029paragraph";
    static final String[] FACETS = {"cuisine", "geography", "landmarks", "history", "language_culture", "people", "sport", "politics"};
    static final int[] ANCHORS = {3999, 1207, 8852, 15003, 640, 11111};
    static final int FINES = 24;
    /** Non-finite numbers in the fixture: one effect size, one cosine cell (in the matrix and its scatter point), one cloud z. */
    static final int NON_FINITE = 4;

    private ReportFixture() {}

    /** @param steering include the optional steering section
     *  @param coarseNeuronpedia give the coarse SAE its neuronpedia_id (the fine one never has one) */
    static ReportModel model(boolean steering, boolean coarseNeuronpedia) {
        Random rnd = new Random(20240712);
        Thresholds t = new Thresholds(0.3, 0.5, 3);
        Config config = new Config("France feature: " + XSS, "gemma-2-2b", 200, 200, "max", t);

        int[] fines = new int[FINES];
        for (int j = 0; j < FINES; j++) fines[j] = 1000 + j * 9973 + rnd.nextInt(900);
        // the first anchor splits into fines 0..3 (GO), the second weakly into 4..5, the rest are unrelated
        float[][] cos = new float[ANCHORS.length][FINES];
        double[][] corr = new double[ANCHORS.length][FINES];
        for (int i = 0; i < ANCHORS.length; i++) {
            for (int j = 0; j < FINES; j++) {
                boolean split = (i == 0 && j < 4) || (i == 1 && (j == 4 || j == 5));
                cos[i][j] = (float) (split ? 0.45 + 0.3 * rnd.nextDouble() : rnd.nextGaussian() * 0.12);
                corr[i][j] = split ? 0.55 + 0.35 * rnd.nextDouble() : rnd.nextGaussian() * 0.18;
                if (i == 2 && j == 7) corr[i][j] = 0.62; // co-occurring only
                if (i == 3 && j == 9) cos[i][j] = 0.41f;  // geometric only
            }
        }
        cos[4][11] = Float.NaN; // a zero-norm decoder row upstream: shown as n/a
        List<FeaturePair> scatter = new ArrayList<>();
        List<AnchorSummary> anchors = new ArrayList<>();
        List<Link> links = new ArrayList<>();
        for (int i = 0; i < ANCHORS.length; i++) {
            int matches = 0;
            FeaturePair strongest = null;
            for (int j = 0; j < FINES; j++) {
                Classification c = classify(t, corr[i][j], cos[i][j]);
                FeaturePair p = new FeaturePair(ANCHORS[i], fines[j], corr[i][j], cos[i][j], c, Double.NaN);
                scatter.add(p);
                if (c == Classification.MATCH) {
                    matches++;
                    links.add(new Link(ANCHORS[i], fines[j]));
                    if (strongest == null || p.correlation() * p.cosine() > strongest.correlation() * strongest.cosine()) strongest = p;
                }
            }
            anchors.add(new AnchorSummary(ANCHORS[i], matches, strongest));
        }
        int goMatches = anchors.get(0).matches();

        List<CloudPoint> points = new ArrayList<>();
        for (int i = 0; i < ANCHORS.length; i++) {
            points.add(new CloudPoint(ANCHORS[i], Resolution.COARSE, 3 * Math.cos(i), 3 * Math.sin(i), i - 2.5,
                    i == 0 ? "France (general) " + XSS : FACETS[i % FACETS.length]));
        }
        for (int j = 0; j < FINES; j++) {
            int near = j < 4 ? 0 : j < 6 ? 1 : j % ANCHORS.length;
            CloudPoint a = points.get(near);
            double z = j == 17 ? Double.NaN : a.z() + rnd.nextGaussian() * 0.6;
            points.add(new CloudPoint(fines[j], Resolution.FINE, a.x() + rnd.nextGaussian() * 0.6,
                    a.y() + rnd.nextGaussian() * 0.6, z, FACETS[j % FACETS.length] + (j == 2 ? " " + QUOTES : "")));
        }
        PointCloud cloud = new PointCloud(points, links, new double[] {0.231, 0.148, 0.097});

        List<FeatureStats> coarseFeatures = new ArrayList<>();
        for (int i = 0; i < ANCHORS.length; i++) coarseFeatures.add(feature(rnd, ANCHORS[i], i, i == 0));
        List<FeatureStats> fineFeatures = new ArrayList<>();
        for (int j = 0; j < 10; j++) fineFeatures.add(feature(rnd, fines[j], j + 3, false));
        List<Sae> saes = List.of(
                new Sae("coarse 16k", Resolution.COARSE, 16384, coarseNeuronpedia ? COARSE_NP : null, coarseFeatures),
                new Sae("fine 262k", Resolution.FINE, 262144, null, fineFeatures));

        Verdict verdict = new Verdict(Decision.GO, ANCHORS[0], goMatches, t.minSubFeatures(),
                "Coarse feature " + ANCHORS[0] + " has " + goMatches + " fine sub-features with cosine > 0.30 and correlation > 0.50 (at least 3 required).");

        Steering st = null;
        if (steering) {
            double[] s = {0, 2, 4, 6, 8, 10, 12};
            st = new Steering(List.of(curve("feature " + ANCHORS[0] + " <b>bold?</b>", s, 0.08, 0.07),
                    curve("random direction", s, 0.08, 0.004)),
                    List.of(new Generation("feature " + ANCHORS[0], 8, "My favourite city is Paris, with its croissants. " + XSS),
                            new Generation("random direction", 8, "My favourite city is " + LINE_SEP + " " + CLOSER)));
        }
        return new ReportModel(config, saes, new CosineMatrix(ANCHORS, fines, cos), scatter, anchors, cloud, verdict, st);
    }

    private static FeatureStats feature(Random rnd, int index, int rank, boolean nanEffectSize) {
        double mt = 4.5 / (1 + 0.3 * rank) + rnd.nextDouble();
        double mc = 0.05 + 0.2 * rnd.nextDouble();
        List<TopPrompt> prompts = new ArrayList<>();
        String[] texts = {
                "The Eiffel Tower is in " + (rank == 0 ? XSS : "Paris"),
                "Bouillabaisse is a fish stew from Marseille; " + QUOTES,
                "The French Revolution began in 1789 " + CLOSER,
                "Napoleon was crowned emperor in Notre-Dame " + LINE_SEP,
                "Le Tour de France finishes on the Champs-Élysées"};
        int n = rank % 6 == 5 ? 0 : 5 - rank % 3;
        for (int k = 0; k < n; k++) prompts.add(top(texts[(k + rank) % texts.length], mt * (2.2 - 0.3 * k)));
        // a NaN effect size stands for a zero pooled SD upstream
        double d = nanEffectSize ? Double.NaN : 0.8 + 2.5 * rnd.nextDouble();
        return row(index, mt / (mt + mc), mt, mc, 0.6 + 0.3 * rnd.nextDouble(), 0.02 + 0.1 * rnd.nextDouble(),
                0.85 + 0.14 * rnd.nextDouble(), Math.pow(10, -2 - 4 * rnd.nextDouble()), d,
                rank == 0 ? "mixed" : FACETS[rank % FACETS.length], prompts);
    }

    /**
     * A table row as the report shows it, in the order of its columns: index, selectivity, means, fire rates, AUROC, q,
     * effect size, facet and top prompts (what the report does not show: p = q, no permutation check, no per-facet means).
     */
    static FeatureStats row(int index, double selectivity, double meanTarget, double meanControl, double fireRateTarget,
                            double fireRateControl, double auroc, double qValue, double effectSize, String likelyFacet,
                            List<TopPrompt> topPrompts) {
        return new FeatureStats(index, meanTarget, meanControl, fireRateTarget, fireRateControl, selectivity, auroc, qValue, qValue,
                effectSize, qValue, meanTarget / fireRateTarget, likelyFacet, java.util.Map.of(), topPrompts, null);
    }

    /** A top prompt (no index or facet: the report shows text and value). */
    static TopPrompt top(String text, double value) {
        return new TopPrompt(0, text, null, value);
    }

    private static Curve curve(String name, double[] s, double base, double slope) {
        double[] m = new double[s.length], lo = new double[s.length], hi = new double[s.length];
        for (int i = 0; i < s.length; i++) {
            m[i] = Math.min(0.95, base + slope * s[i]);
            lo[i] = Math.max(0, m[i] - 0.06);
            hi[i] = Math.min(1, m[i] + 0.06);
        }
        return new Curve(name, s, m, lo, hi);
    }

    static Classification classify(Thresholds t, double corr, double cos) {
        boolean c = corr > t.minCorrelation(), g = cos > t.minCosine();
        return c && g ? Classification.MATCH : c ? Classification.CO_OCCURRING : g ? Classification.GEOMETRIC_ONLY : Classification.UNRELATED;
    }
}
