package dev.jlens.toy;

import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Random Gemma 2 models in llama.cpp's gemma2 GGUF layout. Every tensor has its own SplittableRandom
 * seeded from (seed, tensor name), so a tensor can be generated on its own, in a stream, and equals the
 * corresponding array of {@link #generate}: a 2B-shaped file is written without holding its weights.
 *
 * <p>Scales keep activations O(1) through many layers: matrices are uniform with standard deviation
 * 1/sqrt(fan_in) (uniform rather than normal because it is ~3x cheaper for 2.6 G values and only the
 * variance matters here), token embeddings 1/sqrt(n_embd), norm weights 1 ± 0.1 (GGUF norm weights
 * include Gemma's +1). gemma2 has no output.weight: the LM head is tied to token_embd.
 */
public final class ToyModels {
    private ToyModels() {}

    public enum Kind { EMBEDDING, NORM, MATRIX }

    /** One GGUF tensor: name, ggml shape (ne[0] contiguous), block index (-1 for global) and kind. */
    public record TensorSpec(String name, long[] ne, int layer, String suffix, Kind kind) {
        public TensorSpec {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(kind, name);
            ne = ne.clone();
        }

        @Override
        public long[] ne() { return ne.clone(); }

        public long elements() {
            long n = 1;
            for (long d : ne) n *= d;
            return n;
        }

        /** Standard deviation of the generated values around their mean (1 for norms, 0 for others). */
        double std() {
            return switch (kind) {
                case EMBEDDING -> 1.0 / Math.sqrt(ne[0]);
                case NORM -> 0.1;
                case MATRIX -> 1.0 / Math.sqrt(ne[0]);
            };
        }
    }

    /** All tensors in file order: token_embd, blk.0..n-1, output_norm. */
    public static List<TensorSpec> tensorSpecs(Gemma2Config c) {
        List<TensorSpec> out = new ArrayList<>();
        out.add(new TensorSpec("token_embd.weight", new long[] {c.nEmbd(), c.nVocab()}, -1, "token_embd", Kind.EMBEDDING));
        for (int il = 0; il < c.nLayer(); il++) out.addAll(layerSpecs(c, il));
        out.add(new TensorSpec("output_norm.weight", new long[] {c.nEmbd()}, -1, "output_norm", Kind.NORM));
        return out;
    }

    /** The 11 tensors of block {@code il}, shaped as llama_model_gemma2::load_arch_tensors creates them. */
    public static List<TensorSpec> layerSpecs(Gemma2Config c, int il) {
        if (il < 0 || il >= c.nLayer()) throw new IndexOutOfBoundsException("layer " + il + " of " + c.nLayer());
        int d = c.nEmbd();
        return List.of(
                layer(il, "attn_norm", Kind.NORM, d),
                layer(il, "attn_q", Kind.MATRIX, d, c.qDim()),
                layer(il, "attn_k", Kind.MATRIX, d, c.kvDim()),
                layer(il, "attn_v", Kind.MATRIX, d, c.kvDim()),
                layer(il, "attn_output", Kind.MATRIX, c.qDim(), d),
                layer(il, "post_attention_norm", Kind.NORM, d),
                layer(il, "ffn_norm", Kind.NORM, d),
                layer(il, "ffn_gate", Kind.MATRIX, d, c.nFf()),
                layer(il, "ffn_up", Kind.MATRIX, d, c.nFf()),
                layer(il, "ffn_down", Kind.MATRIX, c.nFf(), d),
                layer(il, "post_ffw_norm", Kind.NORM, d));
    }

    /** The spec of a tensor name, e.g. {@code blk.3.ffn_up.weight}. */
    public static TensorSpec spec(Gemma2Config c, String name) {
        for (TensorSpec s : tensorSpecs(c)) if (s.name().equals(name)) return s;
        throw new IllegalArgumentException("gemma2 with " + c.nLayer() + " layers has no tensor " + name);
    }

    private static TensorSpec layer(int il, String suffix, Kind kind, long... ne) {
        return new TensorSpec("blk." + il + "." + suffix + ".weight", ne, il, suffix, kind);
    }

    /** Random weights for {@code c}; identical to what {@link #write(Path, Gemma2Config, Vocabulary, long, GgmlType)} streams. */
    public static Gemma2Weights generate(Gemma2Config c, Vocabulary vocab, long seed) {
        checkVocab(c, vocab);
        for (TensorSpec s : tensorSpecs(c)) {
            if (s.elements() > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(s.name() + " has " + s.elements() + " elements: too large for an in-memory model, stream it with write(path, config, vocab, seed, type)");
            }
        }
        float[] embd = materialize(c, spec(c, "token_embd.weight"), seed);
        float[] outNorm = materialize(c, spec(c, "output_norm.weight"), seed);
        List<Gemma2Weights.Layer> layers = new ArrayList<>();
        for (int il = 0; il < c.nLayer(); il++) {
            List<TensorSpec> l = layerSpecs(c, il);
            float[][] t = new float[l.size()][];
            for (int i = 0; i < t.length; i++) t[i] = materialize(c, l.get(i), seed);
            layers.add(new Gemma2Weights.Layer(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10]));
        }
        return new Gemma2Weights(c, embd, outNorm, layers);
    }

    private static float[] materialize(Gemma2Config c, TensorSpec s, long seed) {
        float[] out = new float[(int) s.elements()];
        int[] at = {0};
        try {
            generated(c, s, seed).produce((data, off, len) -> {
                System.arraycopy(data, off, out, at[0], len);
                at[0] += len;
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the sink above does no I/O
        }
        return out;
    }

    /** Streams the seeded values of one tensor in chunks; each call starts the tensor's sequence afresh. */
    public static GgufWriter.F32Source generated(Gemma2Config c, TensorSpec s, long seed) {
        Objects.requireNonNull(c, "config");
        Objects.requireNonNull(s, "spec");
        return sink -> {
            SplittableRandom rnd = new SplittableRandom(tensorSeed(seed, s.name()));
            double halfWidth = Math.sqrt(3.0) * s.std(); // uniform(-a, a) has std a/sqrt(3)
            double mean = s.kind() == Kind.NORM ? 1.0 : 0.0;
            long n = s.elements();
            float[] chunk = new float[(int) Math.min(n, 1 << 16)];
            for (long i = 0; i < n; i += chunk.length) {
                int len = (int) Math.min(chunk.length, n - i);
                for (int j = 0; j < len; j++) chunk[j] = (float) (mean + halfWidth * (2 * rnd.nextDouble() - 1));
                sink.accept(chunk, 0, len);
            }
        };
    }

    /** Writes in-memory weights. Norms stay F32 (as llama.cpp's converter keeps 1-D tensors); matrices use {@code type}. */
    public static void write(Path gguf, Gemma2Config c, Vocabulary vocab, Gemma2Weights w, GgmlType type) throws IOException {
        Objects.requireNonNull(w, "weights");
        if (!w.config().equals(c)) throw new IllegalArgumentException("weights are for " + w.config() + ", not " + c);
        GgufWriter out = new GgufWriter();
        putMetadata(out, c, vocab, type);
        for (TensorSpec s : tensorSpecs(c)) out.addTensor(s.name(), s.ne(), storeType(s, type), w.tensor(s.name()));
        out.write(gguf);
    }

    /** Writes seeded weights tensor by tensor without holding them (use this for the 2B shape). */
    public static void write(Path gguf, Gemma2Config c, Vocabulary vocab, long seed, GgmlType type) throws IOException {
        GgufWriter out = new GgufWriter();
        putMetadata(out, c, vocab, type);
        for (TensorSpec s : tensorSpecs(c)) out.addTensor(s.name(), s.ne(), storeType(s, type), generated(c, s, seed));
        out.write(gguf);
    }

    /** The type a tensor gets in a file of {@code fileType}: norms F32, everything else {@code fileType}. */
    public static GgmlType storeType(TensorSpec s, GgmlType fileType) {
        return s.kind() == Kind.NORM ? GgmlType.F32 : fileType;
    }

    /** general.*, gemma2.* and tokenizer.* keys, as convert_hf_to_gguf.py's Gemma2Model writes them. */
    public static void putMetadata(GgufWriter w, Gemma2Config c, Vocabulary vocab, GgmlType fileType) {
        checkVocab(c, vocab);
        String a = "gemma2";
        w.putString("general.architecture", a);
        w.putString("general.name", "jlens toy gemma2");
        w.putUint32("general.file_type", llamaFileType(fileType));
        w.putUint32(a + ".context_length", c.contextLength());
        w.putUint32(a + ".embedding_length", c.nEmbd());
        w.putUint32(a + ".block_count", c.nLayer());
        w.putUint32(a + ".feed_forward_length", c.nFf());
        w.putUint32(a + ".attention.head_count", c.nHead());
        w.putUint32(a + ".attention.head_count_kv", c.nHeadKv());
        w.putUint32(a + ".attention.key_length", c.headDim());
        w.putUint32(a + ".attention.value_length", c.headDim());
        w.putFloat32(a + ".attention.layer_norm_rms_epsilon", c.rmsEps());
        w.putFloat32(a + ".attn_logit_softcapping", c.attnSoftcap());
        w.putFloat32(a + ".final_logit_softcapping", c.finalSoftcap());
        w.putUint32(a + ".attention.sliding_window", c.slidingWindow());
        w.putFloat32(a + ".rope.freq_base", c.ropeBase());
        w.putUint32(a + ".rope.dimension_count", c.headDim());
        vocab.writeMetadata(w);
    }

    /** llama_ftype for a file whose matrices are {@code t}. */
    public static int llamaFileType(GgmlType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            case BF16 -> 32;
            default -> throw new IllegalArgumentException("no toy model file type for " + t);
        };
    }

    private static void checkVocab(Gemma2Config c, Vocabulary vocab) {
        Objects.requireNonNull(c, "config");
        Objects.requireNonNull(vocab, "vocabulary");
        if (vocab.size() != c.nVocab()) throw new IllegalArgumentException("vocabulary has " + vocab.size() + " tokens, config nVocab is " + c.nVocab());
    }

    /** FNV-1a of the name mixed with the seed, so each tensor has an independent, stable stream. */
    static long tensorSeed(long seed, String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) h = (h ^ (b & 0xFF)) * 0x100000001b3L;
        return new SplittableRandom(seed ^ h).nextLong();
    }
}
