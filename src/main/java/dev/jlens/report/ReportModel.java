package dev.jlens.report;

import dev.jlens.api.FeaturePair;
import dev.jlens.api.FeatureStats;
import dev.jlens.api.SteeringVerdict;
import dev.jlens.api.Verdict;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Everything the France-feature report shows, as plain values: the report neither knows nor cares how
 * the numbers were computed. Features, pairs and the verdict are the API's records ({@link FeatureStats},
 * {@link FeaturePair}, {@link Verdict}), the same objects results.json holds; the rest is the report's layout.
 * Measured values (means, rates, correlations, coordinates...) may be NaN or
 * infinite; the renderers show them as "n/a" and write them to JSON as null. Structure (indices, sizes,
 * references between sections) is validated here so a renderer never meets an inconsistent model.
 *
 * @param config what was run
 * @param saes the SAEs, coarse first by convention; each with its table of top features
 * @param cosine decoder cosine matrix, anchors (coarse) x fine features
 * @param scatter one point per (anchor, fine) pair
 * @param anchors per-anchor match summary
 * @param cloud 3D PCA point cloud of decoder directions, with links between matched pairs
 * @param verdict the GO / NO-GO decision
 * @param steering optional steering results; null when no steering was run (the section is then omitted)
 * @param facetSplit per anchor, fine features that fire on a subset of the target prompts (beside the verdict's rule);
 *                   empty when none was found or computed
 */
public record ReportModel(Config config, List<Sae> saes, CosineMatrix cosine, List<FeaturePair> scatter,
                          List<AnchorSummary> anchors, PointCloud cloud, Verdict verdict, Steering steering,
                          List<FacetSplitRow> facetSplit) {

    /** A report without a facet split. */
    public ReportModel(Config config, List<Sae> saes, CosineMatrix cosine, List<FeaturePair> scatter, List<AnchorSummary> anchors,
                       PointCloud cloud, Verdict verdict, Steering steering) {
        this(config, saes, cosine, scatter, anchors, cloud, verdict, steering, List.of());
    }

    public ReportModel {
        Objects.requireNonNull(config, "config");
        saes = copy("saes", saes);
        Objects.requireNonNull(cosine, "cosine");
        scatter = copy("scatter", scatter);
        anchors = copy("anchors", anchors);
        Objects.requireNonNull(cloud, "cloud");
        Objects.requireNonNull(verdict, "verdict");
        if (saes.isEmpty()) throw new IllegalArgumentException("a report needs at least one SAE");
        Set<String> names = new HashSet<>();
        for (Sae s : saes) {
            if (!names.add(s.name())) throw new IllegalArgumentException("SAE name '" + s.name() + "' appears twice");
        }
        Set<Integer> anchorIds = new HashSet<>();
        for (int a : cosine.anchors()) anchorIds.add(a);
        Set<Integer> fineIds = new HashSet<>();
        for (int f : cosine.fines()) fineIds.add(f);
        for (FeaturePair p : scatter) {
            if (!anchorIds.contains(p.anchor()) || !fineIds.contains(p.fine())) {
                throw new IllegalArgumentException("scatter point (" + p.anchor() + ", " + p.fine()
                        + ") is not a cell of the cosine matrix");
            }
        }
        for (AnchorSummary s : anchors) {
            if (!anchorIds.contains(s.anchor())) {
                throw new IllegalArgumentException("anchor summary for " + s.anchor() + ", which is not a matrix row");
            }
        }
        facetSplit = copy("facetSplit", facetSplit);
        for (FacetSplitRow r : facetSplit) {
            if (!anchorIds.contains(r.anchor())) {
                throw new IllegalArgumentException("facet split row for anchor " + r.anchor() + ", which is not a matrix row");
            }
        }
    }

    /**
     * A fine feature that fires on a subset of the target prompts and leans to an anchor (analysis.FacetSplit.Row).
     *
     * @param facet          the facet most of its firing target prompts carry, or "mixed"
     * @param facetShare     share of its firing target prompts with that facet
     * @param fireRateTarget share of all target prompts it fires on
     * @param meanWhenFiring its mean over the target prompts it fires on
     * @param correlation    with the anchor over all prompts (the verdict's correlation)
     * @param targetCorrelation with the anchor over the target prompts only
     */
    public record FacetSplitRow(int anchor, int fine, String facet, double facetShare, double fireRateTarget, double meanWhenFiring,
                                double cosine, double correlation, double targetCorrelation) {
        public FacetSplitRow {
            Objects.requireNonNull(facet, "facet");
            if (fine < 0) throw new IllegalArgumentException("fine feature index must be >= 0, got " + fine);
        }
    }

    /** The most top prompts a feature of a table shows. */
    public static final int MAX_TOP_PROMPTS = 5;

    /** The SAE of the given resolution that comes first, or null. */
    public Sae sae(Resolution resolution) {
        for (Sae s : saes) if (s.resolution() == resolution) return s;
        return null;
    }

    public enum Resolution {
        COARSE, FINE;

        public String label() { return name().toLowerCase(java.util.Locale.ROOT); }
    }

    /** Match thresholds: a pair matches when cosine &gt; minCosine and correlation &gt; minCorrelation. */
    public record Thresholds(double minCosine, double minCorrelation, int minSubFeatures) {
        public Thresholds {
            // thresholds position drawn shapes and markers, so they must be real numbers
            if (!Double.isFinite(minCosine)) throw new IllegalArgumentException("minCosine must be finite, got " + minCosine);
            if (!Double.isFinite(minCorrelation)) throw new IllegalArgumentException("minCorrelation must be finite, got " + minCorrelation);
            if (minSubFeatures < 1) throw new IllegalArgumentException("minSubFeatures must be >= 1, got " + minSubFeatures);
        }
    }

    /**
     * @param title report title
     * @param model language model name (e.g. gemma-2-2b)
     * @param targetPrompts number of target (France) prompts
     * @param controlPrompts number of control (neutral) prompts
     * @param aggregate how token activations were pooled per prompt (e.g. max, mean)
     */
    public record Config(String title, String model, int targetPrompts, int controlPrompts, String aggregate,
                         Thresholds thresholds) {
        public Config {
            Objects.requireNonNull(title, "title");
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(aggregate, "aggregate");
            Objects.requireNonNull(thresholds, "thresholds");
            if (targetPrompts < 0) throw new IllegalArgumentException("targetPrompts must be >= 0, got " + targetPrompts);
            if (controlPrompts < 0) throw new IllegalArgumentException("controlPrompts must be >= 0, got " + controlPrompts);
        }
    }

    /**
     * @param name display name (unique in the report), e.g. "coarse 16k"
     * @param width number of SAE features
     * @param neuronpediaId e.g. {@code gemma-2-2b/12-gemmascope-res-16k}, or null when Neuronpedia has no page
     * @param topFeatures the features to tabulate, in display order
     * @param significance how low the table's q-values could go, and the permutation check; null when not known
     * @param atlasHref the relative URL of this SAE's atlas.html (from jlens atlas), or null when there is none
     */
    public record Sae(String name, Resolution resolution, int width, String neuronpediaId, List<FeatureStats> topFeatures,
                      Significance significance, String atlasHref) {
        // the id becomes a URL path: segments of safe characters, none starting with a dot (no ".."), so it
        // can only name a page under neuronpedia.org
        private static final Pattern NEURONPEDIA_ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*");

        public Sae {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(resolution, "resolution");
            if (width < 1) throw new IllegalArgumentException("SAE " + name + ": width must be >= 1, got " + width);
            if (neuronpediaId != null && !NEURONPEDIA_ID.matcher(neuronpediaId).matches()) {
                throw new IllegalArgumentException("SAE " + name + ": neuronpedia_id '" + neuronpediaId
                        + "' is not of the form model/sae-set (segments of letters, digits, . _ - not starting with a dot, separated by /)");
            }
            topFeatures = copy("topFeatures", topFeatures);
            for (FeatureStats f : topFeatures) {
                if (f.feature() >= width) {
                    throw new IllegalArgumentException("SAE " + name + ": feature " + f.feature() + " >= width " + width);
                }
                if (f.topPrompts().size() > MAX_TOP_PROMPTS) {
                    throw new IllegalArgumentException("feature " + f.feature() + ": " + f.topPrompts().size()
                            + " top prompts, at most " + MAX_TOP_PROMPTS);
                }
            }
        }

        /** An SAE table without significance information. */
        public Sae(String name, Resolution resolution, int width, String neuronpediaId, List<FeatureStats> topFeatures) {
            this(name, resolution, width, neuronpediaId, topFeatures, null, null);
        }

        /** An SAE table without an atlas of its own. */
        public Sae(String name, Resolution resolution, int width, String neuronpediaId, List<FeatureStats> topFeatures, Significance significance) {
            this(name, resolution, width, neuronpediaId, topFeatures, significance, null);
        }

        /** This SAE's page of {@code feature} in its atlas (relative to the report), or null when there is no atlas. */
        public String atlasUrl(int feature) {
            return atlasHref == null ? null : atlasHref + "#feature=" + feature;
        }

        /** The Neuronpedia page of a feature, or null when this SAE has no neuronpedia_id. */
        public String neuronpediaUrl(int feature) {
            return neuronpediaId == null ? null : "https://www.neuronpedia.org/" + neuronpediaId + "/" + feature;
        }
    }

    /**
     * What the q-values of one SAE's table can reach (as the analysis' ContrastStats.Significance defines it).
     *
     * @param test                 the test, in words
     * @param alpha                significance level of the two counts
     * @param tested               features tested: the m of Benjamini-Hochberg
     * @param smallestP            the smallest p-value the test can produce for these prompt counts
     * @param smallestQ            min(1, m smallestP): the q of a lone feature at that p (it is smallestP when every
     *                             tested feature is as separated)
     * @param permutations         relabelings of the permutation check
     * @param permutationSmallestP 1 / (permutations + 1), the check's floor
     * @param significant          features with q &lt; alpha
     * @param confirmed            of those, features whose permutation p is also &lt; alpha
     */
    public record Significance(String test, double alpha, int tested, double smallestP, double smallestQ, int permutations,
                               double permutationSmallestP, int significant, int confirmed) {
        public Significance {
            Objects.requireNonNull(test, "test");
            if (!(alpha > 0 && alpha < 1)) throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
            if (tested < 0 || significant < 0 || significant > tested || confirmed < 0 || confirmed > significant) {
                throw new IllegalArgumentException("counts must satisfy 0 <= confirmed (" + confirmed + ") <= significant (" + significant
                        + ") <= tested (" + tested + ")");
            }
            for (double p : new double[] {smallestP, smallestQ, permutationSmallestP}) {
                if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException("smallest p/q values must be in [0, 1], got " + p);
            }
            if (permutations < 1) throw new IllegalArgumentException("permutations must be >= 1, got " + permutations);
        }

        /** The smallest q the permutation test alone could give a lone feature: min(1, m / (permutations + 1)). */
        public double permutationSmallestQ() { return Math.min(1.0, tested * permutationSmallestP); }
    }

    /**
     * @param anchors row labels: coarse feature indices
     * @param fines column labels: fine feature indices
     * @param cosine anchors.length rows of fines.length values
     */
    public record CosineMatrix(int[] anchors, int[] fines, float[][] cosine) {
        public CosineMatrix {
            anchors = distinct("anchors", anchors);
            fines = distinct("fines", fines);
            Objects.requireNonNull(cosine, "cosine");
            if (cosine.length != anchors.length) {
                throw new IllegalArgumentException("cosine matrix has " + cosine.length + " rows for " + anchors.length + " anchors");
            }
            float[][] c = new float[cosine.length][];
            for (int i = 0; i < cosine.length; i++) {
                Objects.requireNonNull(cosine[i], "cosine[" + i + "]");
                if (cosine[i].length != fines.length) {
                    throw new IllegalArgumentException("cosine row " + i + " has " + cosine[i].length
                            + " values for " + fines.length + " fine features");
                }
                c[i] = cosine[i].clone();
            }
            cosine = c;
        }

        @Override public int[] anchors() { return anchors.clone(); }

        @Override public int[] fines() { return fines.clone(); }

        @Override public float[][] cosine() {
            float[][] c = new float[cosine.length][];
            for (int i = 0; i < c.length; i++) c[i] = cosine[i].clone();
            return c;
        }

        /** One cell without copying the matrix. */
        public float at(int row, int col) { return cosine[row][col]; }

        @Override public boolean equals(Object o) {
            return o instanceof CosineMatrix m && Arrays.equals(anchors, m.anchors) && Arrays.equals(fines, m.fines)
                    && Arrays.deepEquals(cosine, m.cosine);
        }

        @Override public int hashCode() {
            return Objects.hash(Arrays.hashCode(anchors), Arrays.hashCode(fines), Arrays.deepHashCode(cosine));
        }

        @Override public String toString() {
            return "CosineMatrix[" + anchors.length + " anchors x " + fines.length + " fines]";
        }
    }

    /** @param strongest the anchor's strongest matching pair, or null when it has no match */
    public record AnchorSummary(int anchor, int matches, FeaturePair strongest) {
        public AnchorSummary {
            if (matches < 0) throw new IllegalArgumentException("anchor " + anchor + ": matches must be >= 0, got " + matches);
            if (strongest != null && strongest.anchor() != anchor) {
                throw new IllegalArgumentException("anchor " + anchor + ": strongest match belongs to anchor " + strongest.anchor());
            }
            if (matches == 0 && strongest != null) {
                throw new IllegalArgumentException("anchor " + anchor + " has no matches but a strongest match");
            }
        }
    }

    /** A decoder direction projected to 3D; label is untrusted text (e.g. likely facet). */
    public record CloudPoint(int feature, Resolution resolution, double x, double y, double z, String label) {
        public CloudPoint {
            Objects.requireNonNull(resolution, "resolution");
            Objects.requireNonNull(label, "label");
        }
    }

    /** A matched (coarse anchor, fine feature) pair drawn as a segment between their cloud points. */
    public record Link(int anchor, int fine) {}

    /**
     * @param explainedVarianceRatio fraction of variance on each of the three axes (length 3)
     */
    public record PointCloud(List<CloudPoint> points, List<Link> links, double[] explainedVarianceRatio) {
        public PointCloud {
            points = copy("points", points);
            links = copy("links", links);
            Objects.requireNonNull(explainedVarianceRatio, "explainedVarianceRatio");
            if (explainedVarianceRatio.length != 3) {
                throw new IllegalArgumentException("explainedVarianceRatio needs 3 values, got " + explainedVarianceRatio.length);
            }
            explainedVarianceRatio = explainedVarianceRatio.clone();
            Set<Integer> coarse = new HashSet<>(), fine = new HashSet<>();
            for (CloudPoint p : points) {
                Set<Integer> ids = p.resolution() == Resolution.COARSE ? coarse : fine;
                if (!ids.add(p.feature())) {
                    throw new IllegalArgumentException(p.resolution().label() + " feature " + p.feature() + " appears twice in the point cloud");
                }
            }
            for (Link l : links) {
                if (!coarse.contains(l.anchor()) || !fine.contains(l.fine())) {
                    throw new IllegalArgumentException("link (" + l.anchor() + ", " + l.fine() + ") joins a feature missing from the point cloud");
                }
            }
        }

        @Override public double[] explainedVarianceRatio() { return explainedVarianceRatio.clone(); }

        /** The point of a feature, or null. */
        public CloudPoint point(Resolution resolution, int feature) {
            for (CloudPoint p : points) if (p.resolution() == resolution && p.feature() == feature) return p;
            return null;
        }

        @Override public boolean equals(Object o) {
            return o instanceof PointCloud c && points.equals(c.points) && links.equals(c.links)
                    && Arrays.equals(explainedVarianceRatio, c.explainedVarianceRatio);
        }

        @Override public int hashCode() { return Objects.hash(points, links, Arrays.hashCode(explainedVarianceRatio)); }
    }

    /**
     * The steering study's results.
     *
     * @param curves      mean score with its interval per strength, one curve per condition and score
     * @param generations example continuations
     * @param verdict     what the steering study concluded (its own verdict, not the feature map's); null when not known
     * @param cells       per condition and strength: the scores' means with their bootstrap intervals, perplexity included;
     *                    empty when not known
     */
    public record Steering(List<Curve> curves, List<Generation> generations, SteeringVerdict verdict, List<SteeringCell> cells) {
        public Steering {
            curves = copy("curves", curves);
            generations = copy("generations", generations);
            cells = copy("cells", cells);
        }

        /** Steering results without a verdict or cell table. */
        public Steering(List<Curve> curves, List<Generation> generations) {
            this(curves, generations, null, List.of());
        }
    }

    /** A mean with its confidence interval (NaN where there was nothing to average). */
    public record Interval(double mean, double low, double high) {}

    /**
     * One steering cell: the scores of the continuations under one condition at one strength.
     *
     * @param n               continuations scored
     * @param concept         the coarse France feature's re-encoded activation
     * @param targetFine      the target fine feature's re-encoded activation
     * @param targetFacetRate the rate of the target facet's words
     * @param perplexity      teacher-forced perplexity under the unsteered model
     * @param repetition      share of repeated token bigrams
     */
    public record SteeringCell(String condition, double strength, int n, Interval concept, Interval targetFine, Interval targetFacetRate,
                               Interval perplexity, Interval repetition) {
        public SteeringCell {
            Objects.requireNonNull(condition, "condition");
            for (Interval i : new Interval[] {concept, targetFine, targetFacetRate, perplexity, repetition}) Objects.requireNonNull(i, "interval");
            if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        }
    }

    /** Mean score with a confidence interval per steering strength for one condition. */
    public record Curve(String condition, double[] strength, double[] meanScore, double[] ciLow, double[] ciHigh) {
        public Curve {
            Objects.requireNonNull(condition, "condition");
            strength = Objects.requireNonNull(strength, "strength").clone();
            meanScore = Objects.requireNonNull(meanScore, "meanScore").clone();
            ciLow = Objects.requireNonNull(ciLow, "ciLow").clone();
            ciHigh = Objects.requireNonNull(ciHigh, "ciHigh").clone();
            int n = strength.length;
            if (meanScore.length != n || ciLow.length != n || ciHigh.length != n) {
                throw new IllegalArgumentException("curve '" + condition + "': strength/meanScore/ciLow/ciHigh lengths "
                        + n + "/" + meanScore.length + "/" + ciLow.length + "/" + ciHigh.length + " differ");
            }
        }

        @Override public double[] strength() { return strength.clone(); }

        @Override public double[] meanScore() { return meanScore.clone(); }

        @Override public double[] ciLow() { return ciLow.clone(); }

        @Override public double[] ciHigh() { return ciHigh.clone(); }

        @Override public boolean equals(Object o) {
            return o instanceof Curve c && condition.equals(c.condition) && Arrays.equals(strength, c.strength)
                    && Arrays.equals(meanScore, c.meanScore) && Arrays.equals(ciLow, c.ciLow) && Arrays.equals(ciHigh, c.ciHigh);
        }

        @Override public int hashCode() {
            return Objects.hash(condition, Arrays.hashCode(strength), Arrays.hashCode(meanScore),
                    Arrays.hashCode(ciLow), Arrays.hashCode(ciHigh));
        }
    }

    /** One generated text (untrusted) under a steering condition and strength. */
    public record Generation(String condition, double strength, String text) {
        public Generation {
            Objects.requireNonNull(condition, "condition");
            Objects.requireNonNull(text, "text");
        }
    }

    private static <T> List<T> copy(String what, List<T> list) {
        Objects.requireNonNull(list, what);
        List<T> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) out.add(Objects.requireNonNull(list.get(i), what + "[" + i + "]"));
        return List.copyOf(out);
    }

    private static int[] distinct(String what, int[] ids) {
        Objects.requireNonNull(ids, what);
        Set<Integer> seen = new HashSet<>();
        for (int id : ids) {
            if (id < 0) throw new IllegalArgumentException(what + " contains negative feature " + id);
            if (!seen.add(id)) throw new IllegalArgumentException(what + " lists feature " + id + " twice");
        }
        return ids.clone();
    }
}
