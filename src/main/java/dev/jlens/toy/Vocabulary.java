package dev.jlens.toy;

import dev.jlens.formats.GgufWriter;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SequencedSet;

/**
 * A SentencePiece ("llama"/SPM) vocabulary in Gemma's layout that llama.cpp's SPM tokenizer accepts:
 * {@code <pad>}=0, {@code <eos>}=1, {@code <bos>}=2, {@code <unk>}=3, the 256 byte-fallback tokens
 * {@code <0x00>..<0xFF>} at 4..259, then {@code ▁} and single characters, then word pieces, then filler.
 *
 * <p>llama.cpp's SPM tokenizer merges adjacent symbols pairwise, highest score first, ties leftmost, and
 * only if the merged text is a token. So for every word we add every prefix of {@code ▁word} and of
 * {@code word} with score = length in code points: each merge step then extends the current word by one
 * character and outranks every pending merge, and whole words come out as single tokens.
 * Like real Gemma 2, {@code add_space_prefix} is false, so the first word of a prompt is matched without ▁.
 */
public final class Vocabulary {
    public static final int PAD = 0, EOS = 1, BOS = 2, UNK = 3, FIRST_BYTE = 4;
    /** llama_token_type as stored in tokenizer.ggml.token_type. */
    public static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    public static final String SPACE = "\u2581";
    /** Filler never wins a merge: it is not reachable from shorter pieces and scores below everything. */
    public static final float FILLER_SCORE = -1000f;

    private final List<String> tokens;
    private final float[] scores;
    private final int[] types;
    private final Map<String, Integer> ids;

    private Vocabulary(List<String> tokens, float[] scores, int[] types) {
        this.tokens = List.copyOf(tokens);
        this.scores = scores;
        this.types = types;
        this.ids = new HashMap<>(tokens.size() * 2);
        for (int i = 0; i < tokens.size(); i++) {
            if (ids.put(tokens.get(i), i) != null) throw new IllegalStateException("duplicate token " + tokens.get(i));
        }
    }

    /**
     * Builds a vocabulary of exactly {@code size} tokens covering {@code words} (whole words become one
     * token each, with or without a leading space). Words must be non-empty and contain no whitespace or ▁.
     */
    public static Vocabulary build(Collection<String> words, int size) {
        List<String> toks = new ArrayList<>(size);
        List<Float> sc = new ArrayList<>();
        List<Integer> ty = new ArrayList<>();
        addCoreTokens(words, toks, sc, ty);
        if (toks.size() > size) {
            throw new IllegalArgumentException("size " + size + " is too small: specials, bytes, characters and word pieces need " + toks.size());
        }
        for (int f = 0; toks.size() < size; f++) {
            toks.add("<filler" + f + ">");
            sc.add(FILLER_SCORE);
            ty.add(NORMAL);
        }
        float[] scores = new float[size];
        int[] types = new int[size];
        for (int i = 0; i < size; i++) {
            scores[i] = sc.get(i);
            types[i] = ty.get(i);
        }
        return new Vocabulary(toks, scores, types);
    }

    /** The smallest size {@link #build} accepts for {@code words} (specials, bytes, characters, pieces). */
    public static int minimumSize(Collection<String> words) {
        List<String> toks = new ArrayList<>();
        addCoreTokens(words, toks, new ArrayList<>(), new ArrayList<>());
        return toks.size();
    }

    private static void addCoreTokens(Collection<String> words, List<String> toks, List<Float> sc, List<Integer> ty) {
        String[] specials = {"<pad>", "<eos>", "<bos>", "<unk>"};
        int[] specialTypes = {CONTROL, CONTROL, CONTROL, UNKNOWN};
        for (int i = 0; i < specials.length; i++) {
            toks.add(specials[i]);
            sc.add(0f);
            ty.add(specialTypes[i]);
        }
        for (int b = 0; b < 256; b++) {
            toks.add(byteToken(b));
            sc.add(0f);
            ty.add(BYTE);
        }
        SequencedSet<String> singles = new LinkedHashSet<>();
        singles.add(SPACE);
        for (char c = '!'; c <= '~'; c++) singles.add(String.valueOf(c));
        SequencedSet<String> pieces = new LinkedHashSet<>();
        for (String w : words) {
            if (w == null || w.isEmpty()) throw new IllegalArgumentException("words: empty or null word");
            if (w.contains(SPACE) || w.codePoints().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("words: '" + w + "' contains whitespace or " + SPACE);
            }
            w.codePoints().forEach(cp -> singles.add(Character.toString(cp)));
            int[] cps = (SPACE + w).codePoints().toArray();
            for (int k = 2; k <= cps.length; k++) pieces.add(new String(cps, 0, k));
            for (int k = 3; k <= cps.length; k++) pieces.add(new String(cps, 1, k - 1));
        }
        for (String s : singles) {
            toks.add(s);
            sc.add(1f);
            ty.add(NORMAL);
        }
        for (String p : pieces) {
            if (singles.contains(p)) continue;
            toks.add(p);
            sc.add((float) p.codePointCount(0, p.length()));
            ty.add(NORMAL);
        }
    }

    /** The SentencePiece byte-fallback piece, formatted as llama.cpp's byte_to_token looks it up. */
    public static String byteToken(int b) {
        if (b < 0 || b > 255) throw new IllegalArgumentException("byte " + b);
        return String.format("<0x%02X>", b);
    }

    public int size() { return tokens.size(); }

    public List<String> tokens() { return tokens; }

    public float[] scores() { return scores.clone(); }

    public int[] tokenTypes() { return types.clone(); }

    public String token(int id) { return tokens.get(id); }

    public OptionalInt id(String piece) {
        Integer id = ids.get(piece);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Puts the tokenizer.ggml.* keys llama.cpp's SPM vocabulary loader reads. */
    public void writeMetadata(GgufWriter w) {
        w.putString("tokenizer.ggml.model", "llama");
        w.putStringArray("tokenizer.ggml.tokens", tokens);
        w.putFloat32Array("tokenizer.ggml.scores", scores);
        w.putInt32Array("tokenizer.ggml.token_type", types);
        w.putUint32("tokenizer.ggml.bos_token_id", BOS);
        w.putUint32("tokenizer.ggml.eos_token_id", EOS);
        w.putUint32("tokenizer.ggml.unknown_token_id", UNK);
        w.putUint32("tokenizer.ggml.padding_token_id", PAD);
        w.putBool("tokenizer.ggml.add_bos_token", true);
        w.putBool("tokenizer.ggml.add_eos_token", false);
        w.putBool("tokenizer.ggml.add_space_prefix", false);
    }

    /**
     * Tokenizes plain text as llama.cpp's SPM tokenizer does with this vocabulary (spaces become ▁, no
     * space prefix, pairwise merges by score then leftmost, byte fallback), with {@code <bos>} first.
     * Special-token text such as "&lt;eos&gt;" is not parsed.
     */
    public int[] encode(String text) {
        List<String> sym = new ArrayList<>();
        text.replace(" ", SPACE).codePoints().forEach(cp -> sym.add(Character.toString(cp)));
        while (true) {
            int best = -1;
            float bestScore = Float.NEGATIVE_INFINITY;
            for (int i = 0; i + 1 < sym.size(); i++) {
                Integer id = ids.get(sym.get(i) + sym.get(i + 1));
                if (id != null && scores[id] > bestScore) {
                    best = i;
                    bestScore = scores[id];
                }
            }
            if (best < 0) break;
            sym.set(best, sym.get(best) + sym.remove(best + 1));
        }
        List<Integer> out = new ArrayList<>();
        out.add(BOS);
        for (String s : sym) {
            Integer id = ids.get(s);
            if (id != null) {
                out.add(id);
            } else {
                for (byte b : s.getBytes(StandardCharsets.UTF_8)) out.add(FIRST_BYTE + (b & 0xFF));
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
