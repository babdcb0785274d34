package dev.jlens.analysis;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.SequencedSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * Roles of the words of the three prompt sets, derived from where they occur (compared case-insensitively):
 * <ul>
 *   <li>FRANCE of facet k: occurs in France prompts, never in neutral or distractor prompts; k is the facet
 *       of a strict majority of the France prompts containing it, and when no facet has a majority the word
 *       is a France word without facet (e.g. "French", used in every facet);</li>
 *   <li>JAPAN of facet k: likewise for the distractor set (never in France or neutral prompts);</li>
 *   <li>NEUTRAL: everything else (words shared by two sets, punctuation, numbers in several sets).</li>
 * </ul>
 * A France prompt with no exclusive word would carry no planted signal, so its rarest non-stopword that
 * never occurs in a neutral prompt is promoted to a France word of its facet (logged); when there is none
 * the sets cannot be planted and {@link #derive} throws.
 *
 * <p>Words are maximal runs of letters/digits; every other non-space character is a word of its own, which
 * is how the toy vocabulary ({@code dev.jlens.toy.Vocabulary#encode}) splits text when every such word is in the vocabulary.
 */
public final class WordRoles {
    private static final System.Logger LOG = System.getLogger(WordRoles.class.getName());
    private static final Set<String> STOPWORDS = Set.of("a", "an", "the", "of", "in", "on", "at", "to", "and", "or",
            "is", "was", "are", "were", "be", "by", "for", "with", "from", "as", "it", "its", "that", "this", "s");

    public enum Kind { FRANCE, JAPAN, NEUTRAL }

    /**
     * A word's role; {@code facet} is null for NEUTRAL and for France/Japan words spread over several facets
     * (such as "France" or "French", which say nothing about the facet).
     */
    public record Role(Kind kind, String facet) {
        public static final Role NEUTRAL = new Role(Kind.NEUTRAL, null);

        public Role {
            Objects.requireNonNull(kind, "kind");
            if (kind == Kind.NEUTRAL && facet != null) {
                throw new IllegalArgumentException("a NEUTRAL word has no facet, got " + facet);
            }
        }
    }

    private final SequencedSet<String> surfaceWords;
    private final Map<String, Role> roles; // lower-case word -> non-neutral role
    private final List<String> facets;
    private final Set<String> promoted;

    private WordRoles(SequencedSet<String> surfaceWords, Map<String, Role> roles, List<String> facets, Set<String> promoted) {
        this.surfaceWords = surfaceWords;
        this.roles = roles;
        this.facets = facets;
        this.promoted = promoted;
    }

    /** Splits text into words: letter/digit runs, and every other non-space character on its own. */
    public static List<String> split(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder run = new StringBuilder();
        text.codePoints().forEach(cp -> {
            if (Character.isLetterOrDigit(cp)) {
                run.appendCodePoint(cp);
                return;
            }
            if (!run.isEmpty()) {
                out.add(run.toString());
                run.setLength(0);
            }
            if (!Character.isWhitespace(cp) && !Character.isSpaceChar(cp)) out.add(Character.toString(cp));
        });
        if (!run.isEmpty()) out.add(run.toString());
        return out;
    }

    public static WordRoles derive(PromptSet france, PromptSet neutral, PromptSet distractor) {
        Objects.requireNonNull(france, "france");
        Objects.requireNonNull(neutral, "neutral");
        Objects.requireNonNull(distractor, "distractor");
        SequencedSet<String> surface = new LinkedHashSet<>();
        List<String> facets = new ArrayList<>();
        for (PromptSet s : List.of(france, neutral, distractor)) {
            for (PromptSet.Prompt p : s.prompts()) surface.addAll(split(p.text()));
        }
        for (PromptSet.Prompt p : france.prompts()) {
            if (p.facet() == null) throw new IllegalArgumentException(france.source() + ": France prompt without a facet: \"" + p.text() + "\"");
            if (!facets.contains(p.facet())) facets.add(p.facet());
        }
        Set<String> inNeutral = lowerWords(neutral);
        Set<String> inFrance = lowerWords(france);
        Set<String> inDistractor = lowerWords(distractor);
        Map<String, Role> roles = new HashMap<>();
        assign(france, facets, roles, w -> !inNeutral.contains(w) && !inDistractor.contains(w), Kind.FRANCE);
        List<String> japanFacets = new ArrayList<>(facets);
        for (PromptSet.Prompt p : distractor.prompts()) {
            if (p.facet() != null && !japanFacets.contains(p.facet())) japanFacets.add(p.facet());
        }
        assign(distractor, japanFacets, roles, w -> !inNeutral.contains(w) && !inFrance.contains(w), Kind.JAPAN);

        Map<String, Integer> frequency = new HashMap<>();
        for (PromptSet s : List.of(france, neutral, distractor)) {
            for (PromptSet.Prompt p : s.prompts()) {
                for (String w : new HashSet<>(lower(split(p.text())))) frequency.merge(w, 1, Integer::sum);
            }
        }
        Set<String> promoted = new TreeSet<>();
        for (PromptSet.Prompt p : france.prompts()) {
            List<String> words = lower(split(p.text()));
            if (words.stream().anyMatch(w -> roles.get(w) != null && roles.get(w).kind() == Kind.FRANCE)) continue;
            String rarest = words.stream()
                    .filter(w -> w.codePoints().anyMatch(Character::isLetter) && !STOPWORDS.contains(w) && !inNeutral.contains(w))
                    .min(Comparator.comparingInt((String w) -> frequency.get(w)).thenComparing(Comparator.naturalOrder()))
                    .orElseThrow(() -> new IllegalArgumentException(france.source() + ": France prompt \"" + p.text()
                            + "\" has no word that is absent from the neutral prompts, so no France signal can be planted in it"));
            roles.put(rarest, new Role(Kind.FRANCE, p.facet()));
            promoted.add(rarest);
            LOG.log(System.Logger.Level.INFO, "France prompt \"{0}\" has no exclusive word; promoting its rarest non-stopword \"{1}\" to a France word of facet {2}",
                    p.text(), rarest, p.facet());
        }
        return new WordRoles(surface, Map.copyOf(roles), List.copyOf(facets), Set.copyOf(promoted));
    }

    /** Each word passing {@code eligible} gets {@code kind} and the facet of a majority of the prompts of {@code set} containing it. */
    private static void assign(PromptSet set, List<String> facets, Map<String, Role> roles,
                               java.util.function.Predicate<String> eligible, Kind kind) {
        Map<String, int[]> counts = new LinkedHashMap<>();
        for (PromptSet.Prompt p : set.prompts()) {
            if (p.facet() == null) continue;
            int k = facets.indexOf(p.facet());
            for (String w : new LinkedHashSet<>(lower(split(p.text())))) {
                if (!eligible.test(w)) continue;
                counts.computeIfAbsent(w, x -> new int[facets.size()])[k]++;
            }
        }
        counts.forEach((w, c) -> {
            int best = 0, total = 0;
            for (int k = 0; k < c.length; k++) {
                total += c[k];
                if (c[k] > c[best]) best = k;
            }
            // a facet-specific word must mostly occur in that facet, or it would boost the facet everywhere
            roles.put(w, new Role(kind, 2 * c[best] > total ? facets.get(best) : null));
        });
    }

    private static Set<String> lowerWords(PromptSet s) {
        Set<String> out = new HashSet<>();
        for (PromptSet.Prompt p : s.prompts()) out.addAll(lower(split(p.text())));
        return out;
    }

    private static List<String> lower(List<String> words) {
        return words.stream().map(w -> w.toLowerCase(Locale.ROOT)).toList();
    }

    /** Every distinct word as written in the prompts (case kept), in first-seen order: the vocabulary's words. */
    public List<String> surfaceWords() { return List.copyOf(surfaceWords); }

    /** France facets in the order they first occur in the France set. */
    public List<String> facets() { return facets; }

    /** Role of a word (case-insensitive); NEUTRAL for unknown words. */
    public Role role(String word) {
        return roles.getOrDefault(word.toLowerCase(Locale.ROOT), Role.NEUTRAL);
    }

    /** Words promoted by the rarest-non-stopword rule (lower case); empty for the shipped sets. */
    public Set<String> promoted() { return promoted; }

    /** Lower-case words of the given kind, sorted. */
    public List<String> wordsOf(Kind kind) {
        return roles.entrySet().stream().filter(e -> e.getValue().kind() == kind).map(Map.Entry::getKey).sorted().toList();
    }

    /** The words of {@code text} that have role {@code kind}. */
    public List<String> wordsIn(String text, Kind kind) {
        return split(text).stream().filter(w -> role(w).kind() == kind).toList();
    }
}
