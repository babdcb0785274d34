package dev.jlens.toy;

import dev.jlens.analysis.PromptSet;
import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufWriter;
import dev.jlens.llama.Quantizer;

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
            List<ToyModels.TensorSpec> specs = ToyModels.tensorSpecs(c);
            try (Prefetch ahead = new Prefetch(specs.size(), Runtime.getRuntime().availableProcessors())) {
                for (int i = 0; i < specs.size(); i++) {
                    ToyModels.TensorSpec s = specs.get(i);
                    GgmlType st = ToyModels.storeType(s, type);
                    if (st == GgmlType.F32) {
                        w.addTensor(s.name(), s.ne(), GgmlType.F32, ToyModels.generated(c, s, seed));
                    } else {
                        GgufWriter.RawSource q = quantized(ToyModels.generated(c, s, seed), st, (int) s.ne()[0]);
                        ahead.set(i, q);
                        int index = i;
                        w.addRawTensor(s.name(), s.ne(), st, sink -> ahead.take(index, sink));
                    }
                }
                w.write(out);
            }
        }
        return new Result(out, c, type, (System.nanoTime() - t0) / 1_000_000_000L);
    }

    /**
     * Generates and quantizes the tensors after the one being written on other threads (each tensor has its
     * own seed, so the bytes do not depend on the order or the thread count); at most {@code window}
     * tensors are held in memory. The writer still receives them in file order.
     */
    private static final class Prefetch implements AutoCloseable {
        private final GgufWriter.RawSource[] sources;
        private final java.util.List<java.util.concurrent.Future<List<byte[]>>> futures;
        private final java.util.concurrent.ExecutorService pool;
        private final int window;

        Prefetch(int n, int threads) {
            sources = new GgufWriter.RawSource[n];
            futures = new java.util.ArrayList<>(java.util.Collections.nCopies(n, null));
            window = Math.max(1, threads);
            pool = java.util.concurrent.Executors.newFixedThreadPool(window, r -> {
                Thread t = new Thread(r, "toy-model-quantize");
                t.setDaemon(true);
                return t;
            });
        }

        void set(int i, GgufWriter.RawSource s) { sources[i] = s; }

        void take(int i, GgufWriter.ByteSink sink) throws IOException {
            for (int j = i, started = 0; j < sources.length && started <= window; j++) {
                if (sources[j] == null) continue;
                started++;
                if (futures.get(j) == null) {
                    GgufWriter.RawSource src = sources[j];
                    futures.set(j, pool.submit(() -> {
                        List<byte[]> parts = new java.util.ArrayList<>();
                        src.produce(b -> {
                            byte[] copy = new byte[b.remaining()];
                            b.get(copy);
                            parts.add(copy);
                        });
                        return parts;
                    }));
                }
            }
            List<byte[]> parts;
            try {
                parts = futures.get(i).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while generating tensor " + i);
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof IOException io) throw io;
                if (e.getCause() instanceof RuntimeException re) throw re;
                throw new IOException("generating tensor " + i + " failed", e.getCause());
            }
            futures.set(i, null); // let the bytes go once written (a second write() regenerates them)
            for (byte[] p : parts) sink.accept(p);
        }

        @Override
        public void close() { pool.shutdownNow(); }
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
