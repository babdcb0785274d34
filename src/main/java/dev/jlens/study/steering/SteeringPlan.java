package dev.jlens.study.steering;

import dev.jlens.api.Classification;
import dev.jlens.api.FeaturePair;
import dev.jlens.api.FeatureStats;

import dev.jlens.study.ExperimentResult;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Which features the steering comparison pushes: the coarse anchor (the France verdict's anchor), the fine
 * features matched to it (feature → facet), the one fine feature used for "fine only" / "coarse+fine" and the
 * facet it targets, and every feature's typical activation.
 */
public record SteeringPlan(int anchor, Map<Integer, String> matchedFines, int targetFine, String targetFacet,
                           SteeringVector.Typical typical) {
    public SteeringPlan {
        if (anchor < 0) throw new IllegalArgumentException("anchor must be a feature index >= 0, got " + anchor);
        Objects.requireNonNull(matchedFines, "matchedFines");
        if (matchedFines.isEmpty()) {
            throw new IllegalArgumentException("anchor " + anchor + " has no matched fine feature: the coarse-vs-coarse+fine comparison needs one");
        }
        matchedFines = java.util.Collections.unmodifiableMap(new TreeMap<>(matchedFines));
        if (!matchedFines.containsKey(targetFine)) {
            throw new IllegalArgumentException("target fine feature " + targetFine + " is not among the matched fine features " + matchedFines.keySet());
        }
        Objects.requireNonNull(targetFacet, "targetFacet");
        if (!targetFacet.equals(matchedFines.get(targetFine))) {
            throw new IllegalArgumentException("target facet '" + targetFacet + "' is not fine feature " + targetFine + "'s facet '" + matchedFines.get(targetFine) + "'");
        }
        Objects.requireNonNull(typical, "typical");
    }

    /**
     * From results.json: the verdict's anchor, its MATCH pairs, the strongest match as target (the anchor summary's
     * strongest fine), facets from the fine features' likelyFacet, typical activations from meanTarget. When that match
     * names no facet, the anchor's facet-split feature firing hardest (meanWhenFiring) joins the plan as the target.
     */
    public static SteeringPlan fromResults(ExperimentResult r) {
        int anchor = r.verdict().anchor();
        if (anchor < 0) throw new IllegalArgumentException("results.json's verdict names no anchor (" + r.verdict().decision() + ": " + r.verdict().reason() + ")");
        Map<Integer, FeatureStats> fine = new LinkedHashMap<>();
        for (var f : r.fine().topBySelectivity()) fine.putIfAbsent(f.feature(), f);
        for (var f : r.fine().topByEffectSize()) fine.putIfAbsent(f.feature(), f);
        Map<Integer, Double> coarseTypical = new TreeMap<>(), fineTypical = new TreeMap<>();
        for (var f : r.coarse().topBySelectivity()) coarseTypical.put(f.feature(), f.meanTarget());
        for (var f : r.coarse().topByEffectSize()) coarseTypical.putIfAbsent(f.feature(), f.meanTarget());
        fine.forEach((k, f) -> fineTypical.put(k, f.meanTarget()));
        Map<Integer, String> matched = new TreeMap<>();
        for (FeaturePair p : r.crossmap().pairs()) {
            if (p.anchor() != anchor || p.classification() != Classification.MATCH) continue;
            FeatureStats f = fine.get(p.fine());
            if (f == null) throw new IllegalArgumentException("matched fine feature " + p.fine() + " has no feature entry in results.json");
            matched.put(p.fine(), f.likelyFacet() == null ? "none" : f.likelyFacet());
        }
        Integer target = null;
        for (ExperimentResult.Anchor a : r.crossmap().anchorSummaries()) if (a.anchor() == anchor) target = a.strongestFine();
        if (target == null && !matched.isEmpty()) target = matched.keySet().iterator().next();
        // matches without a facet of their own (near-duplicates of the anchor, as on the realistic toy): target the
        // anchor's strongest facet-split feature instead, which fires on its facet's prompts only (issue 16 point 7)
        if (target == null || !hasFacet(matched.get(target))) {
            ExperimentResult.FacetSplitRow best = null;
            for (var s : r.crossmap().facetSplit() == null ? List.<ExperimentResult.FacetSplitRow>of() : r.crossmap().facetSplit()) {
                if (s.anchor() == anchor && hasFacet(s.facet()) && (best == null || s.meanWhenFiring() > best.meanWhenFiring())) best = s;
            }
            if (best != null) {
                matched.put(best.fine(), best.facet());
                fineTypical.put(best.fine(), best.meanWhenFiring());
                target = best.fine();
            }
        }
        if (target == null) throw new IllegalArgumentException("anchor " + anchor + " has no matched fine feature in results.json");
        return new SteeringPlan(anchor, matched, target, matched.get(target),
                new SteeringVector.Typical(coarseTypical, fineTypical, "results.json meanTarget"));
    }

    private static boolean hasFacet(String facet) {
        return facet != null && !facet.equals("mixed") && !facet.equals("none");
    }

    /** The same plan with another target (one of the matched fine features). */
    public SteeringPlan withTarget(int fineFeature) {
        String facet = matchedFines.get(fineFeature);
        if (facet == null) throw new IllegalArgumentException("fine feature " + fineFeature + " is not matched to anchor " + anchor + "; matched: " + matchedFines.keySet());
        return new SteeringPlan(anchor, matchedFines, fineFeature, facet, typical);
    }
}
