package dev.jlens.atlas.browser;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * "Which features fire on token X": maps each token text that is the max token of some top example
 * ({@code tokens[position - start]}) to the features with such examples, how many, and their best value. Keys are
 * normalised ({@link #key}) so " Paris", "▁Paris" and "paris" meet; the keys are hashed into bucket files
 * ({@code tokens-NNN.js}) so a search loads one small file. The page computes the same key and hash in JavaScript
 * (atlas.js {@code tokenKey}, {@code bucketOf}); both must change together.
 */
final class TokenIndex {
    /** Aim for about this many keys per bucket file. */
    static final int KEYS_PER_BUCKET = 256;
    static final int MAX_BUCKETS = 4096;
    /** Distinct raw spellings kept per key, for display. */
    static final int MAX_FORMS = 8;

    private final Map<String, Entry> entries = new HashMap<>();

    private static final class Entry {
        final Set<String> forms = new LinkedHashSet<>();
        final Map<Integer, Hit> features = new LinkedHashMap<>();
    }

    /** One feature's top examples peaking on one key. */
    record Hit(int feature, int count, float best) {}

    /** Adds the max tokens of {@code f}'s top examples. */
    void add(AtlasFeature f) {
        for (AtlasFeature.Example e : f.top()) {
            String text = e.maxToken();
            Entry entry = entries.computeIfAbsent(key(text), k -> new Entry());
            if (entry.forms.size() < MAX_FORMS) entry.forms.add(text);
            entry.features.merge(f.feature(), new Hit(f.feature(), 1, e.value()),
                    (a, b) -> new Hit(a.feature(), a.count() + 1, Math.max(a.best(), b.best())));
        }
    }

    /** Number of distinct keys. */
    int keys() {
        return entries.size();
    }

    /** Number of bucket files for the keys added so far. */
    int buckets() {
        return Math.clamp((entries.size() + KEYS_PER_BUCKET - 1) / KEYS_PER_BUCKET, 1, MAX_BUCKETS);
    }

    /** Writes every bucket file (empty ones too, so the page never asks for a missing file); returns total bytes. */
    long write(Path dir) throws IOException {
        int buckets = buckets();
        List<Map<String, Entry>> byBucket = new ArrayList<>(buckets);
        for (int b = 0; b < buckets; b++) byBucket.add(new TreeMap<>());
        entries.forEach((k, v) -> byBucket.get(bucket(k, buckets)).put(k, v));
        long bytes = 0;
        for (int b = 0; b < buckets; b++) {
            Map<String, Entry> content = byBucket.get(b);
            bytes += ScriptData.write(dir.resolve(fileName(b)), "tokens", b, g -> writeBucket(g, content));
        }
        return bytes;
    }

    static String fileName(int bucket) {
        return String.format(Locale.ROOT, "tokens-%03d.js", bucket);
    }

    /** The search key of a token text: spaces and SentencePiece's ▁ stripped at both ends (unless that leaves nothing), lower case. */
    static String key(String text) {
        int b = 0;
        int e = text.length();
        while (b < e && isPad(text.charAt(b))) b++;
        while (e > b && isPad(text.charAt(e - 1))) e--;
        return (b == e ? text : text.substring(b, e)).toLowerCase(Locale.ROOT);
    }

    /** The bucket of a key: 32-bit FNV-1a over its UTF-16 code units, modulo {@code buckets}. */
    static int bucket(String key, int buckets) {
        int h = 0x811c9dc5;
        for (int i = 0; i < key.length(); i++) h = (h ^ key.charAt(i)) * 0x01000193;
        return Integer.remainderUnsigned(h, buckets);
    }

    private static boolean isPad(char c) {
        return c == ' ' || c == '\u2581';
    }

    /** Most examples first, then best value, then id. */
    private static List<Hit> sorted(Entry e) {
        List<Hit> hits = new ArrayList<>(e.features.values());
        hits.sort(Comparator.comparingInt(Hit::count).reversed()
                .thenComparing(Comparator.comparingDouble(Hit::best).reversed())
                .thenComparingInt(Hit::feature));
        return hits;
    }

    /**
     * A bucket is an array of {key, forms, features} objects, not an object keyed by token: in a JavaScript literal
     * a key "__proto__" would set the prototype instead of being a key, and such tokens exist.
     */
    private static void writeBucket(JsonGenerator g, Map<String, Entry> content) throws IOException {
        g.writeStartArray();
        for (Map.Entry<String, Entry> kv : content.entrySet()) {
            g.writeStartObject();
            g.writeStringField("key", kv.getKey());
            g.writeArrayFieldStart("forms");
            for (String form : kv.getValue().forms) g.writeString(form);
            g.writeEndArray();
            g.writeArrayFieldStart("features");
            for (Hit h : sorted(kv.getValue())) {
                g.writeStartArray();
                g.writeNumber(h.feature());
                g.writeNumber(h.count());
                ScriptData.number(g, h.best());
                g.writeEndArray();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
    }
}
