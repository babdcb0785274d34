package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/** The model's tokenizer (llama_vocab). Valid while its {@link Model} is open; thread-safe for reads. */
public final class Vocab {
    private final Model model;
    private final MemorySegment handle;
    private final int nTokens;
    private final int bos;
    private final int eos;
    private final boolean addBos;

    Vocab(Model model, MemorySegment handle) {
        this.model = model;
        this.handle = handle;
        this.nTokens = LlamaH.llama_vocab_n_tokens(handle);
        this.bos = LlamaH.llama_vocab_bos(handle);
        this.eos = LlamaH.llama_vocab_eos(handle);
        this.addBos = LlamaH.llama_vocab_get_add_bos(handle);
    }

    public int size() { return nTokens; }
    /** BOS token id (2 for Gemma), or -1 when the vocabulary has none. */
    public int bos() { return bos; }
    public int eos() { return eos; }
    /** Whether the model asks for BOS to be prepended (true for Gemma). */
    public boolean addsBos() { return addBos; }

    public boolean isBos(int token) { return token == bos && bos >= 0; }

    public boolean isEndOfGeneration(int token) {
        checkToken(token);
        model.handle();
        return LlamaH.llama_vocab_is_eog(handle, token);
    }

    /**
     * Tokenizes text the way the model expects: BOS prepended when the model says so; special-token
     * text in the prompt is NOT parsed (a prompt containing "<bos>" stays literal text).
     */
    public int[] tokenize(String text) {
        if (text == null) throw new IllegalArgumentException("prompt text is null");
        model.handle();
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment txt = a.allocate(Math.max(1, utf8.length));
            MemorySegment.copy(utf8, 0, txt, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, utf8.length);
            int cap = utf8.length + 8;
            MemorySegment out = a.allocate(JAVA_INT, cap);
            int n = LlamaH.llama_tokenize(handle, txt, utf8.length, out, cap, true, false);
            if (n < 0) {
                cap = -n;
                out = a.allocate(JAVA_INT, cap);
                n = LlamaH.llama_tokenize(handle, txt, utf8.length, out, cap, true, false);
            }
            if (n < 0) throw new LlamaException("llama_tokenize", n, "tokenization failed for a prompt of " + utf8.length + " bytes");
            return out.asSlice(0, (long) n * 4).toArray(JAVA_INT);
        }
    }

    /** The text a token stands for (its piece, with SentencePiece's ▁ turned into a space; byte tokens as bytes). */
    public byte[] pieceBytes(int token) {
        checkToken(token);
        model.handle();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            int n = LlamaH.llama_token_to_piece(handle, token, buf, 256, 0, true);
            if (n < 0) {
                buf = a.allocate(-n);
                n = LlamaH.llama_token_to_piece(handle, token, buf, -n, 0, true);
            }
            if (n < 0) throw new LlamaException("llama_token_to_piece", n, "token " + token);
            return Arrays.copyOf(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), n);
        }
    }

    public String piece(int token) {
        return new String(pieceBytes(token), StandardCharsets.UTF_8);
    }

    /** Detokenizes a sequence (bytes of byte-fallback tokens joined before decoding UTF-8). */
    public String detokenize(int[] tokens) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int t : tokens) {
            if (isBos(t)) continue;
            out.writeBytes(pieceBytes(t));
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    void checkToken(int token) {
        if (token < 0 || token >= nTokens) {
            throw new IllegalArgumentException("token id " + token + " is out of range [0, " + nTokens + ")");
        }
    }
}
