package dev.jlens.activations;

import dev.jlens.llama.Vocab;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Prompts as the model reads them, from the one tokenize-and-validate step every capture goes through ({@link #of}):
 * each prompt's token ids, BOS first when the model prepends it.
 *
 * <p>Which rows are BOS is decided by position, not by token id: a prompt's row 0 is BOS when the model prepends BOS
 * ({@link #isBosRow}). A vocabulary whose BOS id is also an ordinary word keeps that word's rows everywhere else; a
 * model that prepends nothing has no BOS rows ({@link #bosTokenId} is then -1).
 *
 * @param tokens     token ids per prompt, in prompt order
 * @param bosTokenId the id the model prepends to every prompt, -1 when it prepends none
 */
public record TokenizedPrompts(List<int[]> tokens, int bosTokenId) {
    public TokenizedPrompts {
        tokens = List.copyOf(tokens);
    }

    /**
     * Tokenizes and validates {@code texts} for a capture whose batches hold at most {@code maxTokens} tokens. Bad input
     * throws IllegalArgumentException naming the prompt: no prompts, a null or blank prompt, a prompt longer than
     * {@code maxTokens} (rejected, never truncated), a BOS id outside the vocabulary.
     */
    public static TokenizedPrompts of(Vocab vocab, List<String> texts, int maxTokens) {
        Objects.requireNonNull(vocab, "vocab");
        requireTexts(texts);
        boolean adds = vocab.addsBos();
        if (adds && (vocab.bos() < 0 || vocab.bos() >= vocab.size())) {
            // the GGUF check refuses such a file; a model loaded some other way must not slip through either
            throw new IllegalArgumentException("tokenizer.ggml.bos_token_id " + vocab.bos() + " is outside the vocabulary of " + vocab.size() + " tokens");
        }
        List<int[]> out = new ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i++) {
            int[] t = vocab.tokenize(texts.get(i));
            if (t.length > maxTokens) {
                throw new IllegalArgumentException("prompt " + i + " has " + t.length + " tokens, more than the context size " + maxTokens
                        + " (prompts are rejected, not truncated): shorten it or raise the context size");
            }
            if (adds && (t.length == 0 || t[0] != vocab.bos())) {
                throw new IllegalStateException("prompt " + i + ": the model prepends BOS " + vocab.bos() + " but its tokens start with "
                        + (t.length == 0 ? "nothing" : String.valueOf(t[0])));
            }
            out.add(t);
        }
        return new TokenizedPrompts(out, adds ? vocab.bos() : -1);
    }

    /** The checks that need no model (the isolated host runs them before starting a worker): some prompts, none blank. */
    public static void requireTexts(List<String> texts) {
        Objects.requireNonNull(texts, "prompts");
        if (texts.isEmpty()) throw new IllegalArgumentException("no prompts to capture");
        for (int i = 0; i < texts.size(); i++) {
            String p = texts.get(i);
            if (p == null || p.isBlank()) throw new IllegalArgumentException("prompt " + i + " is empty");
        }
    }

    public int size() { return tokens.size(); }

    /** All tokens of all prompts: the rows a capture produces. */
    public long totalTokens() {
        long n = 0;
        for (int[] t : tokens) n += t.length;
        return n;
    }

    /** Whether the row at {@code position} of prompt {@code prompt} is BOS. */
    public boolean isBosRow(int prompt, int position) {
        return isBosRow(tokens.get(prompt), position, bosTokenId);
    }

    /**
     * The BOS rule for stored rows: row {@code position} of a prompt with tokens {@code promptTokens} is BOS when it is
     * the first row and holds {@code bosTokenId}, the id the model prepends (-1: none, so no row is BOS).
     */
    public static boolean isBosRow(int[] promptTokens, int position, int bosTokenId) {
        return position == 0 && bosTokenId >= 0 && promptTokens.length > 0 && promptTokens[0] == bosTokenId;
    }

    /** As {@link #isBosRow(int[], int, int)} for a row known by its position and token id (tokens.csv, a captured batch). */
    public static boolean isBosRow(int position, int token, int bosTokenId) {
        return position == 0 && bosTokenId >= 0 && token == bosTokenId;
    }
}
