package dev.jlens.llama;

import dev.jlens.formats.GgmlType;
import dev.jlens.toy.Gemma2Config;
import dev.jlens.toy.Gemma2Weights;
import dev.jlens.toy.ToyModels;
import dev.jlens.toy.Vocabulary;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Generated test models, written once per test JVM into a temp folder (real files for the real llama.cpp). */
final class TinyModel {
    static final List<String> WORDS = List.of("the", "capital", "of", "France", "is", "Paris", "a", "cat", "dog",
            "sat", "on", "mat", "hello", "world", "river", "Seine", "flows", "through", "city", "bread", "cheese",
            "wine", "tower", "old", "new", "and", "in", "to", "my", "friend", "likes", "long", "walks");
    static final long SEED = 1234;

    static final Gemma2Config CONFIG = Gemma2Config.tiny().withNVocab(1024);
    static final Vocabulary VOCAB = Vocabulary.build(WORDS, CONFIG.nVocab());
    private static Gemma2Weights weights;
    private static Path f32;
    private static Path deep;

    private TinyModel() {}

    static synchronized Gemma2Weights weights() {
        if (weights == null) weights = ToyModels.generate(CONFIG, VOCAB, SEED);
        return weights;
    }

    /** The tiny gemma2 (14 layers, d=64, window 8) in F32. */
    static synchronized Path f32() {
        if (f32 == null) f32 = write("tiny-f32.gguf", CONFIG, weights());
        return f32;
    }

    /** Same widths with Gemma 2 2B's 26 layers, so early exit at 12 skips half the network. */
    static synchronized Path deep() {
        if (deep == null) {
            Gemma2Config c = CONFIG.withNLayer(26);
            deep = write("tiny26-f32.gguf", c, ToyModels.generate(c, VOCAB, SEED));
        }
        return deep;
    }

    private static Path write(String name, Gemma2Config c, Gemma2Weights w) {
        try {
            Path dir = Files.createTempDirectory("jlens-tiny");
            dir.toFile().deleteOnExit();
            Path p = dir.resolve(name);
            ToyModels.write(p, c, VOCAB, w, GgmlType.F32);
            p.toFile().deleteOnExit();
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
