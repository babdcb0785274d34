package dev.jlens.api;

import java.util.Locale;

/**
 * Which SAE encoder computes the sparse codes. Spelled on the command line and in results.json as {@link #toString()}
 * gives it ({@code auto}, {@code vector}, {@code ggml}, {@code ggml-gpu}, {@code scalar}); {@link #parse} reads that
 * spelling, so a misspelled encoder is refused where the settings are built, before any file is read.
 */
public enum EncoderKind {
    /** the Vector API encoder when the incubator module is present, else ggml on the CPU, else scalar (the reason logged) */
    AUTO("auto"),
    /** the Vector API kernels (needs {@code --add-modules jdk.incubator.vector}) */
    VECTOR("vector"),
    /** a ggml graph on the CPU backend */
    GGML("ggml"),
    /** a ggml graph on the GPU backend when the llama.cpp build has one, else the CPU with a logged reason */
    GGML_GPU("ggml-gpu"),
    /** plain Java loops: the slow reference */
    SCALAR("scalar");

    private final String spelling;

    EncoderKind(String spelling) { this.spelling = spelling; }

    /**
     * Reads an encoder's spelling, as the command line and results.json write it.
     *
     * @param s {@code auto}, {@code vector}, {@code ggml}, {@code ggml-gpu} or {@code scalar}, any case, surrounding
     *          whitespace ignored
     * @return the encoder of that spelling
     * @throws IllegalArgumentException when {@code s} is null or another word, naming it and the five spellings
     */
    public static EncoderKind parse(String s) {
        String k = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
        for (EncoderKind e : values()) if (e.spelling.equals(k)) return e;
        throw new IllegalArgumentException("unknown encoder \"" + s + "\"; expected auto, vector, ggml, ggml-gpu or scalar");
    }

    /** The spelling of the command line and results.json, e.g. {@code ggml-gpu}. */
    @Override
    public String toString() { return spelling; }
}
