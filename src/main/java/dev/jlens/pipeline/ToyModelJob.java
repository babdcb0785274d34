package dev.jlens.pipeline;

import dev.jlens.analysis.PromptSet;
import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufWriter;
import dev.jlens.llama.Quantizer;
import dev.jlens.toy.Gemma2Config;
import dev.jlens.toy.ToyModels;
import dev.jlens.toy.Vocabulary;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * `jlens toy-model`: writes a generated gemma2 GGUF. {@code tiny}: a few MB, 14 layers, d=64, with a
 * vocabulary covering the shipped prompt sets (fast tests). {@code gemma2-2b-shape}: random weights with
 * Gemma 2 2B's exact hyper-parameters and a 256000-token vocabulary, for benchmarks (compute cost does
 * not depend on weight values). F32/F16 are converted in Java; Q8_0/Q4_0 go through ggml's own
 * quantize function, so the blocks are exactly what llama.cpp's quantizer writes.
 */
public final class ToyModelJob {
    private ToyModelJob() {}

    public enum Kind {
        TINY, GEMMA2_2B_SHAPE;

        public static Kind parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "tiny" -> TINY;
                case "gemma2-2b-shape", "2b" -> GEMMA2_2B_SHAPE;
                default -> throw new IllegalArgumentException("unknown model kind '" + s + "': expected tiny or gemma2-2b-shape");
            };
        }
    }

    public static GgmlType parseType(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "q8_0" -> GgmlType.Q8_0;
            case "q4_0" -> GgmlType.Q4_0;
            default -> throw new IllegalArgumentException("unknown tensor type '" + s + "': expected f32, f16, q8_0 or q4_0");
        };
    }

    /** The words of the shipped prompt sets (letters, digits, apostrophes and hyphens; punctuation is tokenized per character). */
    public static List<String> promptWords() throws IOException {
        Set<String> words = new LinkedHashSet<>();
        for (String name : PromptSet.BUILTIN) {
            for (PromptSet.Prompt p : PromptSet.builtin(name).prompts()) {
                for (String w : p.text().split("[^\\p{L}\\p{N}'\\-]+")) if (!w.isEmpty()) words.add(w);
            }
        }
        return List.copyOf(words);
    }

    public static Gemma2Config config(Kind kind, Vocabulary vocab) {
        return kind == Kind.TINY ? Gemma2Config.tiny().withNVocab(vocab.size()) : Gemma2Config.gemma2_2b();
    }

    public static Vocabulary vocabulary(Kind kind) throws IOException {
        List<String> words = promptWords();
        int size = kind == Kind.TINY ? (Vocabulary.minimumSize(words) + 63) / 64 * 64 : Gemma2Config.gemma2_2b().nVocab();
        return Vocabulary.build(words, size);
    }

    public record Result(Path path, Gemma2Config config, GgmlType type, long seconds) {}

    public static Result write(Path out, Kind kind, GgmlType type, long seed) throws IOException {
        long t0 = System.nanoTime();
        Vocabulary vocab = vocabulary(kind);
        Gemma2Config c = config(kind, vocab);
        if (type == GgmlType.F32 || type == GgmlType.F16) {
            ToyModels.write(out, c, vocab, seed, type);
        } else {
            GgufWriter w = new GgufWriter();
            ToyModels.putMetadata(w, c, vocab, type);
            for (ToyModels.TensorSpec s : ToyModels.tensorSpecs(c)) {
                GgmlType st = ToyModels.storeType(s, type);
                if (st == GgmlType.F32) {
                    w.addTensor(s.name(), s.ne(), GgmlType.F32, ToyModels.generated(c, s, seed));
                } else {
                    w.addRawTensor(s.name(), s.ne(), st, quantized(ToyModels.generated(c, s, seed), st, (int) s.ne()[0]));
                }
            }
            w.write(out);
        }
        return new Result(out, c, type, (System.nanoTime() - t0) / 1_000_000_000L);
    }

    /** Streams a generated tensor through ggml's quantizer in chunks of whole rows. */
    private static GgufWriter.RawSource quantized(GgufWriter.F32Source src, GgmlType type, int rowLen) {
        int rowsPerChunk = Math.max(1, (1 << 20) / rowLen);
        return sink -> {
            float[] buf = new float[rowsPerChunk * rowLen];
            int[] fill = {0};
            src.produce((data, off, len) -> {
                int i = off, end = off + len;
                while (i < end) {
                    int n = Math.min(end - i, buf.length - fill[0]);
                    System.arraycopy(data, i, buf, fill[0], n);
                    fill[0] += n;
                    i += n;
                    if (fill[0] == buf.length) {
                        sink.accept(Quantizer.quantize(type, buf, rowsPerChunk, rowLen));
                        fill[0] = 0;
                    }
                }
            });
            if (fill[0] > 0) {
                if (fill[0] % rowLen != 0) throw new IllegalStateException("partial row at end of tensor");
                float[] rest = java.util.Arrays.copyOf(buf, fill[0]);
                sink.accept(Quantizer.quantize(type, rest, fill[0] / rowLen, rowLen));
            }
        };
    }
}
