package dev.jlens.toy.planted;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What was planted, written as {@code ground_truth.json} next to the model and SAEs. Feature indices are
 * -1 and maps empty when {@code planted} is false (nothing to recover; the expected verdict is NO_GO).
 *
 * @param facetCosines per facet, cosine of the fine facet feature's decoder row with the coarse France row
 * @param expectedVerdict "GO" or "NO_GO", as CrossResolutionMap.Decision names them
 */
public record GroundTruth(boolean planted, long seed, int hookLayer, int dModel, String expectedVerdict,
                          Coarse coarse, Fine fine, Map<String, Double> facetCosines, Parameters parameters) {

    public record Coarse(int dSae, int franceFeature, int bleedFeature, int japanFeature) {}

    /**
     * @param facetFeatures  facet name → fine feature index, in France-set facet order
     * @param facetSpecific  whether the facet features fire only on their own facet's words (the realistic variant);
     *                       false: they fire on every France word, harder on their facet's (the classic toy)
     * @param nearDuplicates fine near-duplicates of the coarse France feature (decoder cosine
     *                       {@link PlantedFrance#NEAR_DUPLICATE_COS}, firing on every France prompt); empty in the classic toy
     */
    public record Fine(int dSae, Map<String, Integer> facetFeatures, List<Decoy> decoys, boolean facetSpecific, List<Integer> nearDuplicates) {
        public Fine {
            facetFeatures = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(facetFeatures));
            decoys = List.copyOf(decoys);
            nearDuplicates = nearDuplicates == null ? List.of() : List.copyOf(nearDuplicates); // absent before the realistic variant
        }

        /** The classic toy's fine SAE: facet features on every France word, no near-duplicates. */
        public Fine(int dSae, Map<String, Integer> facetFeatures, List<Decoy> decoys) {
            this(dSae, facetFeatures, decoys, false, List.of());
        }
    }

    /**
     * @param kind "CO_OCCURRING" or "GEOMETRIC_ONLY": the CrossResolutionMap class it must get
     * @param cosineToFrance cosine of its decoder row with the coarse France decoder row
     */
    public record Decoy(int feature, String kind, double cosineToFrance) {
        public Decoy {
            if (!kind.equals("CO_OCCURRING") && !kind.equals("GEOMETRIC_ONLY")) {
                throw new IllegalArgumentException("decoy kind must be CO_OCCURRING or GEOMETRIC_ONLY, got " + kind);
            }
        }
    }

    /** Planting strengths in raw embedding units (the residual sees them times sqrt(n_embd)). */
    public record Parameters(double alphaFrance, double betaFacet, double gammaCoOccurring, double deltaNeutral,
                             double epsilonNarrow, double blockOutputScale, int neutralWords, int narrowWords,
                             int franceWords, int japanWords) {}

    public GroundTruth {
        Objects.requireNonNull(expectedVerdict, "expectedVerdict");
        Objects.requireNonNull(coarse, "coarse");
        Objects.requireNonNull(fine, "fine");
        Objects.requireNonNull(parameters, "parameters");
        facetCosines = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(facetCosines));
        if (!expectedVerdict.equals(planted ? "GO" : "NO_GO")) {
            throw new IllegalArgumentException("planted=" + planted + " but expected verdict " + expectedVerdict);
        }
    }
}
