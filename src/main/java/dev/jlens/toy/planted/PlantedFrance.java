package dev.jlens.toy.planted;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jlens.analysis.PromptSet;
import dev.jlens.analysis.WordRoles;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.GgmlType;
import dev.jlens.sae.SaeConfig;
import dev.jlens.sae.ToySae;
import dev.jlens.toy.Gemma2Config;
import dev.jlens.toy.Gemma2Weights;
import dev.jlens.toy.ToyModels;
import dev.jlens.toy.Vocabulary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The planted-concept toy: a gemma2 GGUF and a coarse (512) and fine (8192) Gemma-Scope-format SAE in which a
 * "France" concept is planted with known structure, so the France experiment has a ground truth to recover
 * (and, with the planting removed, must say NO-GO).
 *
 * <p><b>Vocabulary.</b> Every word of the three shipped prompt sets (letter/digit runs and single
 * punctuation characters, see {@link WordRoles#split}) is one token with and without ▁; roles come from
 * {@link WordRoles}. Two extra word groups are picked deterministically: <i>neutral-ish</i> words (neutral
 * words that never occur in a France prompt, greedily chosen until they cover {@value #NEUTRAL_COVER} of the
 * neutral prompts) and <i>narrow</i> words (France words occurring in a single France prompt, taken round-robin
 * over facets until they cover {@value #NARROW_COVER} of the France prompts).
 *
 * <p><b>Model.</b> {@link #config}: 14 layers, n_embd 256, 4 heads (2 KV) of 32, n_ff 256. Weights are
 * {@link ToyModels#generate}'s, except: (1) the post-attention and post-FFW norm weights are scaled by
 * {@value #BLOCK_OUTPUT_SCALE}: gemma2 RMS-normalises each block output before the residual add, so scaling
 * attn_output / ffn_down would be undone by the norm, and the post-norm weight is the knob that sets how much
 * each block writes (the residual after layer 12 is then sqrt(256)·embedding plus 26 sub-layer outputs of
 * per-dimension RMS ~0.1, still a real transformer's mixing); (2) token embeddings get planted components
 * along orthonormal directions f (France), c_1..c_8 (facets), j (Japan), o (co-occurring), n (neutral-ish),
 * g (narrow): France word of facet k: α f + β c_k + γ o (+ ε g for narrow words); Japan word of facet k:
 * α j + β c_k; neutral-ish word: δ n. α = β = {@value #ALPHA}, γ = {@value #GAMMA}, δ = {@value #DELTA},
 * ε = {@value #EPSILON} in raw embedding units (a generated embedding has norm ~1), so the residual sees 16x
 * that: a France token projects ~8.8 on f. Every token's random embedding is first projected off the planted
 * directions, and a planted word's noise is shrunk so that its embedding keeps its generated norm (the signal
 * replaces noise; at least {@value #MIN_NOISE} of the norm stays noise). So neutral tokens project on the
 * planted directions only through the blocks' small writes, and random SAE features see France tokens with the
 * same norm as any other (otherwise every random feature would fire preferentially on France words).
 *
 * <p><b>Coarse SAE</b> (d_sae 512): France feature {@value #COARSE_FRANCE} (decoder f, encoder f, threshold
 * half the planted level), bleeding feature {@value #COARSE_BLEED} (decoder (f+n)/√2, encoder 1.5(f+n): fires
 * harder than the France feature on France prompts but also on the neutral-ish words of
 * ~{@value #NEUTRAL_COVER} of the neutral prompts, so it is less selective), Japan feature
 * {@value #COARSE_JAPAN} (decoder and encoder j); everything else {@link ToySae}'s calibrated random features.
 *
 * <p><b>Fine SAE</b> (d_sae 8192): one feature per facet at {@code fineFacetFeatures} with decoder
 * {@value #FACET_COS} f + 0.8 c_k (cosine {@value #FACET_COS} to the coarse France row) and encoder
 * {@value #FACET_ENCODER_FRANCE} f + 0.866 c_k: it fires at 0.5·α' on every France word and at
 * 0.5·α' + 0.866·β' on its own facet's words (α' = β' = 16·0.55 = 8.8), a ~2.5x facet dominance; a co-occurring
 * decoy {@value #FINE_CO_OCCURRING} (decoder and encoder o, orthogonal to f, fires on every France prompt:
 * correlation high, cosine 0); a geometric-only decoy {@value #FINE_GEOMETRIC} (decoder
 * {@value #GEOMETRIC_COS} f + 0.866 g, encoder g: it leans to France but fires only on the narrow words of
 * ~{@value #NARROW_COVER} of the France prompts, so it is selective enough to be among the top fine features
 * while its correlation with the France feature stays ~0.3). The geometric decoy fires on a narrow France
 * subset rather than on neutral prompts because a feature firing mostly on neutral prompts would never rank
 * among the top fine features and so would never be tested.
 *
 * <p><b>Realistic variant</b> ({@link Variant#REALISTIC}, same model and coarse SAE): the classic facet features fire
 * on 100% of the France prompts, which is why the post's rule (correlation over all 400 prompts) matches them; the
 * real SAEs showed something else. Here the fine SAE has what the post saw, near-duplicates of the coarse France
 * feature ({@link #FINE_NEAR_DUPLICATES}: decoder {@value #NEAR_DUPLICATE_COS} f + 0.6 u_i with u_i orthogonal to every
 * planted direction, encoder f tilted by {@value #NEAR_DUPLICATE_TILT} towards one facet, firing on every France prompt:
 * correlation ~0.99, cosine 0.80, so they MATCH and give the GO verdict), and facet features that fire only on their
 * own facet's words (same decoder and encoder as the classic ones, threshold raised midway between the 0.5·α' every
 * France word gives and the 0.5·α' + 0.866·β' of its facet's words), which fire on about an eighth of the France
 * prompts, so their all-prompt correlation stays below the match threshold and only the facet split
 * (analysis.FacetSplit) finds and names them.
 *
 * <p>With {@code planted = false}: same vocabulary, same random weights (post-norm scaling included) and the
 * same random SAE features, but no planted embedding component and no planted SAE feature.
 */
public final class PlantedFrance {
    private static final System.Logger LOG = System.getLogger(PlantedFrance.class.getName());

    public static final int N_EMBD = 256;
    public static final int HOOK_LAYER = 12;
    public static final int COARSE_D_SAE = 512;
    public static final int FINE_D_SAE = 8192;
    public static final int COARSE_FRANCE = 337;
    public static final int COARSE_BLEED = 118;
    public static final int COARSE_JAPAN = 401;
    public static final int FINE_CO_OCCURRING = 4093;
    public static final int FINE_GEOMETRIC = 6620;
    private static final int[] FINE_FACETS = {1209, 2077, 2890, 3571, 4426, 5318, 6143, 7039};
    /** The realistic variant's near-duplicates of the coarse France feature. */
    static final int[] FINE_NEAR_DUPLICATES = {835, 1663, 3001, 5903};
    /** Decoder cosine of a near-duplicate with the coarse France feature (what the post measured on Gemma Scope). */
    public static final double NEAR_DUPLICATE_COS = 0.8;
    /** Weight of a facet direction in a near-duplicate's encoder (the rest is f): enough to vary, too little to name a facet. */
    public static final double NEAR_DUPLICATE_TILT = 0.25;

    public static final float ALPHA = 0.55f;
    public static final float BETA = 0.55f;
    public static final float GAMMA = 0.25f;
    public static final float DELTA = 0.6f;
    public static final float EPSILON = 0.35f;
    public static final float BLOCK_OUTPUT_SCALE = 0.1f;
    /** Least fraction of a planted word's embedding norm left to its own random noise. */
    public static final double MIN_NOISE = 0.3;
    public static final double FACET_COS = 0.6;
    public static final double GEOMETRIC_COS = 0.5;
    /** Weight of f in a fine facet feature's unit encoder column (the rest is its facet direction). */
    public static final double FACET_ENCODER_FRANCE = 0.5;
    public static final double NEUTRAL_COVER = 0.4;
    public static final double NARROW_COVER = 0.15;
    public static final float BLEED_GAIN = 1.5f;
    /** Per-dimension residual std the random SAE features are calibrated for (measured: ~1.0-1.1). */
    static final float INPUT_STD = 1.1f;

    private PlantedFrance() {}

    /** Which fine SAE the toy gets (the model and the coarse SAE are the same in both). */
    public enum Variant {
        /** facet features on every France word (harder on their facet's): the post's rule matches them */
        CLASSIC,
        /** near-duplicates of the coarse France feature, and facet features only on their own facet's words */
        REALISTIC
    }

    /**
     * Planted unit directions in R^256, mutually orthonormal. {@code duplicates} are decoder-only directions of the
     * realistic variant's near-duplicates: no embedding is planted along them (they are not in {@link #all()}).
     */
    public record Directions(float[] france, List<float[]> facets, float[] japan, float[] coOccurring,
                             float[] neutral, float[] narrow, List<float[]> duplicates) {
        public Directions {
            facets = List.copyOf(facets);
            duplicates = List.copyOf(duplicates);
        }

        /** Every planted direction: f, the facets, j, o, n, g. */
        public List<float[]> all() {
            List<float[]> out = new ArrayList<>();
            out.add(france);
            out.addAll(facets);
            out.addAll(List.of(japan, coOccurring, neutral, narrow));
            return out;
        }
    }

    /** An in-memory planted model: what {@link #generate} writes, plus the word bookkeeping. */
    public record Model(boolean planted, long seed, Gemma2Config config, Vocabulary vocabulary, WordRoles roles,
                        Gemma2Weights weights, Directions directions, Set<String> neutralWords, Set<String> narrowWords) {
        public Model {
            neutralWords = Set.copyOf(neutralWords);
            narrowWords = Set.copyOf(narrowWords);
        }

        /** The role of the word a token spells (its piece without ▁); NEUTRAL for specials, bytes and pieces. */
        public WordRoles.Role tokenRole(int id) {
            String w = wordOf(vocabulary, id);
            return w == null ? WordRoles.Role.NEUTRAL : roles.role(w);
        }
    }

    /** Paths of the generated files and the ground truth they embody. */
    public record Generated(Path dir, Path model, Path coarseSae, Path fineSae, Path groundTruth, GroundTruth truth) {}

    /** The shape of the toy: 14 layers, d 256, 4 heads of 32 (2 KV heads), n_ff 256, vocabulary {@code nVocab}. */
    public static Gemma2Config config(int nVocab) {
        return new Gemma2Config(14, N_EMBD, 4, 2, 32, 256, nVocab, 1024, 1e-6f, 50f, 30f, 512, 10000f);
    }

    public static SaeConfig coarseConfig() { return SaeConfig.gemmaScope(N_EMBD, COARSE_D_SAE, HOOK_LAYER, null); }

    public static SaeConfig fineConfig() { return SaeConfig.gemmaScope(N_EMBD, FINE_D_SAE, HOOK_LAYER, null); }

    /** Fine feature index of each facet, in France-set facet order. */
    public static Map<String, Integer> fineFacetFeatures(List<String> facets) {
        if (facets.size() != FINE_FACETS.length) {
            throw new IllegalArgumentException("the toy plants " + FINE_FACETS.length + " facets, the France set has " + facets.size() + ": " + facets);
        }
        Map<String, Integer> out = new LinkedHashMap<>();
        for (int k = 0; k < facets.size(); k++) out.put(facets.get(k), FINE_FACETS[k]);
        return out;
    }

    /** Builds the model from the shipped prompt sets. */
    public static Model model(boolean planted, long seed) throws IOException {
        return model(PromptSet.builtin("france"), PromptSet.builtin("neutral"), PromptSet.builtin("distractor"), planted, seed);
    }

    public static Model model(PromptSet france, PromptSet neutral, PromptSet distractor, boolean planted, long seed) {
        WordRoles roles = WordRoles.derive(france, neutral, distractor);
        List<String> words = roles.surfaceWords();
        int nVocab = roundUp(Vocabulary.minimumSize(words), 128);
        Vocabulary vocab = Vocabulary.build(words, nVocab);
        Gemma2Config c = config(nVocab);
        Gemma2Weights base = ToyModels.generate(c, vocab, seed);
        Directions dirs = directions(roles.facets().size(), seed);
        Set<String> neutralWords = neutralWords(roles, france, neutral);
        Set<String> narrowWords = narrowWords(roles, france);

        float[] embd = base.tokenEmbd().clone();
        if (planted) {
            int d = c.nEmbd();
            List<float[]> all = dirs.all();
            float[] p = new float[d];
            for (int id = 0; id < vocab.size(); id++) {
                int off = id * d;
                double norm = norm(embd, off, d);
                // noise lives in the complement of the planted subspace, so only planted words project on it
                for (float[] u : all) {
                    double dot = 0;
                    for (int i = 0; i < d; i++) dot += (double) embd[off + i] * u[i];
                    for (int i = 0; i < d; i++) embd[off + i] -= (float) (dot * u[i]);
                }
                java.util.Arrays.fill(p, 0f);
                String w = wordOf(vocab, id);
                if (w != null) plant(w, roles, dirs, neutralWords, narrowWords, p);
                double pn = norm(p, 0, d), rest = norm(embd, off, d);
                // planted words keep a generated embedding's norm (the signal replaces part of the noise), but
                // keep at least MIN_NOISE of it as noise: words must stay distinguishable from each other
                double target = Math.max(norm, pn / Math.sqrt(1 - MIN_NOISE * MIN_NOISE));
                double keep = Math.sqrt(target * target - pn * pn) / rest;
                for (int i = 0; i < d; i++) embd[off + i] = (float) (embd[off + i] * keep + p[i]);
            }
        }
        List<Gemma2Weights.Layer> layers = new ArrayList<>();
        for (Gemma2Weights.Layer L : base.layers()) {
            layers.add(new Gemma2Weights.Layer(L.attnNorm(), L.attnQ(), L.attnK(), L.attnV(), L.attnOutput(),
                    scaled(L.postAttnNorm(), BLOCK_OUTPUT_SCALE), L.ffnNorm(), L.ffnGate(), L.ffnUp(), L.ffnDown(),
                    scaled(L.postFfwNorm(), BLOCK_OUTPUT_SCALE)));
        }
        Gemma2Weights w = new Gemma2Weights(c, embd, base.outputNorm(), layers);
        return new Model(planted, seed, c, vocab, roles, w, dirs, neutralWords, narrowWords);
    }

    /** The planted component of word {@code w}'s embedding, added into {@code p}. */
    private static void plant(String w, WordRoles roles, Directions dirs, Set<String> neutralWords, Set<String> narrowWords, float[] p) {
        String lw = w.toLowerCase(Locale.ROOT);
        WordRoles.Role r = roles.role(w);
        switch (r.kind()) {
            case FRANCE -> {
                axpy(ALPHA, dirs.france(), p, 0);
                if (r.facet() != null) axpy(BETA, dirs.facets().get(roles.facets().indexOf(r.facet())), p, 0);
                axpy(GAMMA, dirs.coOccurring(), p, 0);
                if (narrowWords.contains(lw)) axpy(EPSILON, dirs.narrow(), p, 0);
            }
            case JAPAN -> {
                axpy(ALPHA, dirs.japan(), p, 0);
                int k = r.facet() == null ? -1 : roles.facets().indexOf(r.facet());
                if (k >= 0) axpy(BETA, dirs.facets().get(k), p, 0);
            }
            case NEUTRAL -> {
                if (neutralWords.contains(lw)) axpy(DELTA, dirs.neutral(), p, 0);
            }
        }
    }

    private static double norm(float[] x, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) x[off + i] * x[off + i];
        return Math.sqrt(s);
    }

    /**
     * Writes {@code model.gguf} (F32), {@code coarse/params.npz}, {@code fine/params.npz} and
     * {@code ground_truth.json} under {@code dir}, each atomically.
     */
    public static Generated generate(Path dir, boolean planted, long seed) throws IOException {
        return generate(dir, model(planted, seed));
    }

    /** As {@link #generate(Path, boolean, long)} with the fine SAE of {@code variant}. */
    public static Generated generate(Path dir, boolean planted, long seed, Variant variant) throws IOException {
        return generate(dir, model(planted, seed), variant);
    }

    /** Writes the files of an already built model with the classic fine SAE (see {@link #generate(Path, boolean, long)}). */
    public static Generated generate(Path dir, Model m) throws IOException {
        return generate(dir, m, Variant.CLASSIC);
    }

    /** Writes the files of an already built model with the fine SAE of {@code variant}. */
    public static Generated generate(Path dir, Model m, Variant variant) throws IOException {
        Objects.requireNonNull(variant, "variant");
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(m, "model");
        boolean planted = m.planted();
        long seed = m.seed();
        Files.createDirectories(dir);
        Path gguf = dir.resolve("model.gguf");
        Path coarse = dir.resolve("coarse").resolve("params.npz");
        Path fine = dir.resolve("fine").resolve("params.npz");
        Path truthFile = dir.resolve("ground_truth.json");
        ToyModels.write(gguf, m.config(), m.vocabulary(), m.weights(), GgmlType.F32);
        Files.createDirectories(coarse.getParent());
        Files.createDirectories(fine.getParent());
        coarseBuilder(m).writeGemmaScopeNpz(coarse);
        fineBuilder(m, variant).writeGemmaScopeNpz(fine);
        GroundTruth truth = groundTruth(m, variant);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        AtomicFiles.writeString(truthFile, json.writeValueAsString(truth) + "\n");
        LOG.log(System.Logger.Level.INFO, "planted France toy (planted={0}, seed {1}, {2}) written to {3}", planted, seed, variant, dir);
        return new Generated(dir, gguf, coarse, fine, truthFile, truth);
    }

    /** The coarse SAE: random features, plus France, bleed and Japan features when planted. */
    static ToySae.Builder coarseBuilder(Model m) {
        ToySae.Builder b = ToySae.builder(N_EMBD, COARSE_D_SAE, m.seed() * 31 + 1).inputStd(INPUT_STD).targetL0(8).layer(HOOK_LAYER);
        if (!m.planted()) return b;
        Directions d = m.directions();
        float level = ALPHA * sqrtD();
        b.plantFeature(COARSE_FRANCE, d.france(), d.france(), 0.5f * level);
        float[] bleed = sum(1, d.france(), 1, d.neutral());
        b.plantFeature(COARSE_BLEED, bleed, scale(BLEED_GAIN, bleed), 0.5f * BLEED_GAIN * Math.min(ALPHA, DELTA) * sqrtD());
        b.plantFeature(COARSE_JAPAN, d.japan(), d.japan(), 0.5f * level);
        return b;
    }

    /** The classic fine SAE. */
    static ToySae.Builder fineBuilder(Model m) {
        return fineBuilder(m, Variant.CLASSIC);
    }

    /**
     * The fine SAE: random features, plus one feature per facet and two decoys when planted; the realistic variant
     * raises the facet features' thresholds so they fire only on their facet's words and adds the near-duplicates.
     */
    static ToySae.Builder fineBuilder(Model m, Variant variant) {
        ToySae.Builder b = ToySae.builder(N_EMBD, FINE_D_SAE, m.seed() * 31 + 2).inputStd(INPUT_STD).targetL0(32).layer(HOOK_LAYER);
        if (!m.planted()) return b;
        Directions d = m.directions();
        double sinF = Math.sqrt(1 - FACET_COS * FACET_COS);
        Map<String, Integer> facets = fineFacetFeatures(m.roles().facets());
        int k = 0;
        double sinE = Math.sqrt(1 - FACET_ENCODER_FRANCE * FACET_ENCODER_FRANCE);
        for (int feature : facets.values()) {
            float[] facet = d.facets().get(k++);
            float[] dir = sum(FACET_COS, d.france(), sinF, facet);
            // fires on every France word (0.5 alpha') and twice as hard or more on its own facet's words
            float[] enc = sum(FACET_ENCODER_FRANCE, d.france(), sinE, facet);
            b.plantFeature(feature, dir, enc, (float) (variant == Variant.REALISTIC ? facetOnlyThreshold()
                    : 0.6 * FACET_ENCODER_FRANCE * ALPHA * sqrtD()));
        }
        if (variant == Variant.REALISTIC) {
            double cosT = Math.sqrt(1 - NEAR_DUPLICATE_TILT * NEAR_DUPLICATE_TILT);
            double sinD = Math.sqrt(1 - NEAR_DUPLICATE_COS * NEAR_DUPLICATE_COS);
            for (int i = 0; i < FINE_NEAR_DUPLICATES.length; i++) {
                float[] dir = sum(NEAR_DUPLICATE_COS, d.france(), sinD, d.duplicates().get(i));
                // encoder f tilted towards facet 2i: the activation varies a little with the facet, never enough to name it
                float[] enc = sum(cosT, d.france(), NEAR_DUPLICATE_TILT, d.facets().get((2 * i) % d.facets().size()));
                b.plantFeature(FINE_NEAR_DUPLICATES[i], dir, enc, (float) (0.5 * cosT * ALPHA * sqrtD()));
            }
        }
        b.plantFeature(FINE_CO_OCCURRING, d.coOccurring(), d.coOccurring(), 0.5f * GAMMA * sqrtD());
        double sinG = Math.sqrt(1 - GEOMETRIC_COS * GEOMETRIC_COS);
        b.plantFeature(FINE_GEOMETRIC, sum(GEOMETRIC_COS, d.france(), sinG, d.narrow()), d.narrow(), 0.5f * EPSILON * sqrtD());
        return b;
    }

    /**
     * The realistic facet features' threshold: midway between what every France word gives them (0.5·α') and what
     * their own facet's words give (0.5·α' + 0.866·β'), so only the latter fire.
     */
    static double facetOnlyThreshold() {
        double sinE = Math.sqrt(1 - FACET_ENCODER_FRANCE * FACET_ENCODER_FRANCE);
        return (FACET_ENCODER_FRANCE * ALPHA + 0.5 * sinE * BETA) * sqrtD();
    }

    static GroundTruth groundTruth(Model m) {
        return groundTruth(m, Variant.CLASSIC);
    }

    static GroundTruth groundTruth(Model m, Variant variant) {
        GroundTruth.Parameters p = new GroundTruth.Parameters(ALPHA, BETA, GAMMA, DELTA, EPSILON, BLOCK_OUTPUT_SCALE,
                m.neutralWords().size(), m.narrowWords().size(), m.roles().wordsOf(WordRoles.Kind.FRANCE).size(),
                m.roles().wordsOf(WordRoles.Kind.JAPAN).size());
        if (!m.planted()) {
            return new GroundTruth(false, m.seed(), HOOK_LAYER, N_EMBD, "NO_GO", new GroundTruth.Coarse(COARSE_D_SAE, -1, -1, -1),
                    new GroundTruth.Fine(FINE_D_SAE, Map.of(), List.of()), Map.of(), p);
        }
        Directions d = m.directions();
        double sinF = Math.sqrt(1 - FACET_COS * FACET_COS);
        Map<String, Integer> facets = fineFacetFeatures(m.roles().facets());
        Map<String, Double> cos = new LinkedHashMap<>();
        int k = 0;
        for (String facet : facets.keySet()) cos.put(facet, cosine(sum(FACET_COS, d.france(), sinF, d.facets().get(k++)), d.france()));
        double sinG = Math.sqrt(1 - GEOMETRIC_COS * GEOMETRIC_COS);
        List<GroundTruth.Decoy> decoys = List.of(
                new GroundTruth.Decoy(FINE_CO_OCCURRING, "CO_OCCURRING", cosine(d.coOccurring(), d.france())),
                new GroundTruth.Decoy(FINE_GEOMETRIC, "GEOMETRIC_ONLY", cosine(sum(GEOMETRIC_COS, d.france(), sinG, d.narrow()), d.france())));
        boolean realistic = variant == Variant.REALISTIC;
        List<Integer> duplicates = realistic ? java.util.Arrays.stream(FINE_NEAR_DUPLICATES).boxed().toList() : List.of();
        return new GroundTruth(true, m.seed(), HOOK_LAYER, N_EMBD, "GO",
                new GroundTruth.Coarse(COARSE_D_SAE, COARSE_FRANCE, COARSE_BLEED, COARSE_JAPAN),
                new GroundTruth.Fine(FINE_D_SAE, facets, decoys, realistic, duplicates), cos, p);
    }

    /** Neutral words absent from every France prompt, most frequent first, until they cover NEUTRAL_COVER of the neutral prompts. */
    static Set<String> neutralWords(WordRoles roles, PromptSet france, PromptSet neutral) {
        Set<String> inFrance = new HashSet<>();
        for (PromptSet.Prompt p : france.prompts()) for (String w : WordRoles.split(p.text())) inFrance.add(w.toLowerCase(Locale.ROOT));
        Map<String, List<Integer>> where = new HashMap<>();
        for (int i = 0; i < neutral.size(); i++) {
            for (String w : new TreeSet<>(lowerAll(WordRoles.split(neutral.prompts().get(i).text())))) {
                if (inFrance.contains(w) || roles.role(w).kind() != WordRoles.Kind.NEUTRAL) continue;
                if (w.codePoints().noneMatch(Character::isLetter)) continue;
                where.computeIfAbsent(w, x -> new ArrayList<>()).add(i);
            }
        }
        List<String> candidates = new ArrayList<>(where.keySet());
        candidates.sort(Comparator.comparingInt((String w) -> -where.get(w).size()).thenComparing(Comparator.naturalOrder()));
        Set<Integer> covered = new HashSet<>();
        Set<String> out = new TreeSet<>();
        for (String w : candidates) {
            if (covered.size() >= NEUTRAL_COVER * neutral.size()) break;
            if (covered.containsAll(where.get(w))) continue;
            out.add(w);
            covered.addAll(where.get(w));
        }
        return out;
    }

    /** France words found in exactly one France prompt, round-robin over facets, until NARROW_COVER of the France prompts are covered. */
    static Set<String> narrowWords(WordRoles roles, PromptSet france) {
        Map<String, List<Integer>> where = new HashMap<>();
        for (int i = 0; i < france.size(); i++) {
            for (String w : new TreeSet<>(lowerAll(WordRoles.split(france.prompts().get(i).text())))) {
                if (roles.role(w).kind() == WordRoles.Kind.FRANCE) where.computeIfAbsent(w, x -> new ArrayList<>()).add(i);
            }
        }
        Map<String, List<String>> byFacet = new LinkedHashMap<>();
        for (String f : roles.facets()) byFacet.put(f, new ArrayList<>());
        where.forEach((w, ps) -> {
            String facet = roles.role(w).facet();
            if (ps.size() == 1 && facet != null) byFacet.get(facet).add(w);
        });
        byFacet.values().forEach(l -> l.sort(Comparator.naturalOrder()));
        Set<Integer> covered = new HashSet<>();
        Set<String> out = new TreeSet<>();
        int[] next = new int[byFacet.size()];
        boolean progress = true;
        while (covered.size() < NARROW_COVER * france.size() && progress) {
            progress = false;
            int k = 0;
            for (List<String> words : byFacet.values()) {
                while (next[k] < words.size()) {
                    String w = words.get(next[k]++);
                    int prompt = where.get(w).get(0);
                    if (covered.add(prompt)) {
                        out.add(w);
                        progress = true;
                        break;
                    }
                }
                k++;
                if (covered.size() >= NARROW_COVER * france.size()) break;
            }
        }
        return out;
    }

    /**
     * Orthonormal directions from seeded Gaussians by Gram-Schmidt (in double); the near-duplicates' decoder-only
     * directions come last, so the planted ones are the same as before they existed.
     */
    static Directions directions(int nFacets, long seed) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x9A4E7EDF4A3CEL);
        int n = nFacets + 5 + FINE_NEAR_DUPLICATES.length;
        if (n > N_EMBD) throw new IllegalArgumentException(nFacets + " facets do not fit in " + N_EMBD + " dimensions");
        double[][] v = new double[n][N_EMBD];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < N_EMBD; k++) v[i][k] = r.nextGaussian();
            for (int j = 0; j < i; j++) {
                double dot = 0;
                for (int k = 0; k < N_EMBD; k++) dot += v[i][k] * v[j][k];
                for (int k = 0; k < N_EMBD; k++) v[i][k] -= dot * v[j][k];
            }
            double norm = 0;
            for (int k = 0; k < N_EMBD; k++) norm += v[i][k] * v[i][k];
            norm = Math.sqrt(norm);
            for (int k = 0; k < N_EMBD; k++) v[i][k] /= norm;
        }
        List<float[]> facets = new ArrayList<>();
        for (int i = 0; i < nFacets; i++) facets.add(toFloat(v[1 + i]));
        List<float[]> duplicates = new ArrayList<>();
        for (int i = 0; i < FINE_NEAR_DUPLICATES.length; i++) duplicates.add(toFloat(v[nFacets + 5 + i]));
        return new Directions(toFloat(v[0]), facets, toFloat(v[nFacets + 1]), toFloat(v[nFacets + 2]),
                toFloat(v[nFacets + 3]), toFloat(v[nFacets + 4]), duplicates);
    }

    /** The word a NORMAL token spells (piece without its leading ▁), or null for specials, bytes and filler. */
    static String wordOf(Vocabulary v, int id) {
        String piece = v.token(id);
        // specials, byte tokens and filler are "<...>"; a word is never that (punctuation words are one character)
        if (piece.length() > 1 && piece.startsWith("<") && piece.endsWith(">")) return null;
        String w = piece.startsWith(Vocabulary.SPACE) ? piece.substring(Vocabulary.SPACE.length()) : piece;
        return w.isEmpty() ? null : w;
    }

    public static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    private static float sqrtD() { return (float) Math.sqrt(N_EMBD); }

    private static List<String> lowerAll(List<String> ws) {
        return ws.stream().map(w -> w.toLowerCase(Locale.ROOT)).toList();
    }

    private static void axpy(float a, float[] x, float[] y, int off) {
        for (int i = 0; i < x.length; i++) y[off + i] += a * x[i];
    }

    private static float[] sum(double a, float[] x, double b, float[] y) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) (a * x[i] + b * y[i]);
        return out;
    }

    private static float[] scale(float a, float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = a * x[i];
        return out;
    }

    private static float[] scaled(float[] x, float a) { return scale(a, x); }

    private static float[] toFloat(double[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) x[i];
        return out;
    }

    private static int roundUp(int n, int m) { return (n + m - 1) / m * m; }
}
