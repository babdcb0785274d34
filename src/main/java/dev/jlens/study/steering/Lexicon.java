package dev.jlens.study.steering;

import dev.jlens.analysis.PromptSet;
import dev.jlens.llama.Vocab;
import dev.jlens.analysis.WordRoles;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The France lexicon, derived from the shipped prompt sets by {@link WordRoles}: a France word occurs in France
 * prompts and never in a neutral or distractor prompt; a facet word is a France word most of whose France
 * prompts share one facet. Words are compared lower-case, split as {@link WordRoles#split} does.
 *
 * @param france every France word (facet words included)
 * @param facets facet name → its facet words, in France-set facet order
 */
public record Lexicon(Set<String> france, Map<String, Set<String>> facets) {
    public Lexicon {
        france = Set.copyOf(new TreeSet<>(Objects.requireNonNull(france, "france")));
        if (france.isEmpty()) throw new IllegalArgumentException("the France lexicon is empty");
        Map<String, Set<String>> f = new LinkedHashMap<>();
        for (var e : Objects.requireNonNull(facets, "facets").entrySet()) {
            for (String w : e.getValue()) {
                if (!france.contains(w)) throw new IllegalArgumentException("facet word '" + w + "' (" + e.getKey() + ") is not a France word");
            }
            f.put(e.getKey(), Set.copyOf(e.getValue()));
        }
        facets = java.util.Collections.unmodifiableMap(f);
    }

    /** The lexicon of the shipped France, neutral and distractor sets. */
    public static Lexicon builtin() throws IOException {
        return derive(PromptSet.builtin("france"), PromptSet.builtin("neutral"), PromptSet.builtin("distractor"));
    }

    public static Lexicon derive(PromptSet france, PromptSet neutral, PromptSet distractor) {
        WordRoles roles = WordRoles.derive(france, neutral, distractor);
        Set<String> words = new TreeSet<>(roles.wordsOf(WordRoles.Kind.FRANCE));
        Map<String, Set<String>> facets = new LinkedHashMap<>();
        for (String facet : roles.facets()) facets.put(facet, new TreeSet<>());
        for (String w : words) {
            String facet = roles.role(w).facet();
            if (facet != null) facets.get(facet).add(w);
        }
        return new Lexicon(words, facets);
    }

    /** Lower-case words of a text that count for hit rates: letter/digit runs (punctuation is not a word). */
    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        for (String w : WordRoles.split(text)) {
            if (w.codePoints().anyMatch(Character::isLetterOrDigit)) out.add(w.toLowerCase(Locale.ROOT));
        }
        return out;
    }

    /** Fraction of the text's words that are France words; 0 for a text without words. */
    public double franceRate(String text) {
        return rate(text, france);
    }

    /** Fraction of the text's words that are words of the given facet. */
    public double facetRate(String text, String facet) {
        Set<String> set = facets.get(facet);
        if (set == null) throw new IllegalArgumentException("unknown facet '" + facet + "'; known: " + facets.keySet());
        return rate(text, set);
    }

    private static double rate(String text, Set<String> set) {
        List<String> w = words(text);
        if (w.isEmpty()) return 0;
        int hits = 0;
        for (String x : w) if (set.contains(x)) hits++;
        return (double) hits / w.size();
    }

    /**
     * Token ids that spell one France word on their own (with or without a leading space), for next-token
     * probabilities. Words the tokenizer splits into several tokens are skipped: their first piece is not
     * France-specific.
     */
    public int[] singleTokenIds(Vocab vocab, Set<String> which) {
        TreeSet<Integer> ids = new TreeSet<>();
        for (String w : which) {
            for (String form : List.of(w, " " + w, capitalise(w), " " + capitalise(w))) {
                int[] t = vocab.tokenize(form);
                int from = t.length > 0 && vocab.isBos(t[0]) ? 1 : 0;
                if (t.length - from == 1) ids.add(t[from]);
            }
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static String capitalise(String w) {
        return w.isEmpty() ? w : w.substring(0, 1).toUpperCase(Locale.ROOT) + w.substring(1);
    }
}
