package dev.jlens.fuzz;

import dev.jlens.formats.DType;
import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufWriter;
import dev.jlens.formats.NpyWriter;
import dev.jlens.formats.NpzWriter;
import dev.jlens.formats.Safetensors;
import dev.jlens.formats.Tensor;
import dev.jlens.fuzz.ReaderContract.Target;
import dev.jlens.sae.SaeConfig;
import dev.jlens.toy.Gemma2Config;
import dev.jlens.toy.ToyModels;
import dev.jlens.toy.Vocabulary;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Deterministic sample files for every target, written with the project's own writers: the seed
 * corpus ({@code valid-*} must open, {@code bad-*} must be rejected) and the base files that
 * mutation properties corrupt.
 */
final class Samples {
    private Samples() {}

    @FunctionalInterface
    interface FileWriter {
        void write(Path p) throws IOException;
    }

    /** Runs a path-based writer in {@code dir} and returns the bytes it produced. */
    static byte[] bytes(Path dir, String name, FileWriter w) throws IOException {
        Path p = dir.resolve(name);
        w.write(p);
        byte[] b = Files.readAllBytes(p);
        Files.delete(p);
        return b;
    }

    /**
     * Little-endian floats in a byte[]-backed segment: NpyWriter/Safetensors stream segments through
     * asByteBuffer(), which only works for byte[]-backed heap segments (float[]-backed ones throw).
     */
    static MemorySegment floats(float... v) {
        ByteBuffer b = le(v.length * 4);
        for (float x : v) b.putFloat(x);
        return MemorySegment.ofArray(b.array());
    }

    static MemorySegment shorts(int... v) {
        ByteBuffer b = le(v.length * 2);
        for (int x : v) b.putShort((short) x);
        return MemorySegment.ofArray(b.array());
    }

    static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ valid bases

    static byte[] npyF32(Path dir) throws IOException {
        return bytes(dir, "s.npy", p -> NpyWriter.write(p, DType.F32, new long[] {2, 3}, floats(1, 2, 3, 4, 5, -6)));
    }

    static byte[] npz(Path dir) throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("W_enc", new Tensor("W_enc", DType.F32, new long[] {2, 3}, floats(1, 2, 3, 4, 5, 6)));
        m.put("threshold", new Tensor("threshold", DType.F16, new long[] {3}, shorts(0x3c00, 0x4000, 0x4200)));
        return bytes(dir, "s.npz", p -> NpzWriter.write(p, m));
    }

    static byte[] safetensors(Path dir) throws IOException {
        List<Tensor> ts = List.of(
                new Tensor("W_dec", DType.F32, new long[] {2, 2}, floats(1, -2, 3, 0.5f)),
                new Tensor("b_dec", DType.BF16, new long[] {2}, shorts(0x3f80, 0xbf80)),
                new Tensor("scale", DType.F16, new long[] {}, shorts(0x3c00)));
        return bytes(dir, "s.safetensors", p -> Safetensors.write(p, ts, Map.of("format", "pt")));
    }

    /** Every KV value type and tensors of F32, F16, BF16, Q8_0 (converted) and Q4_0 (raw). */
    static byte[] gguf(Path dir) throws IOException {
        GgufWriter w = new GgufWriter()
                .putString("general.architecture", "toy").putUint8("u8", 200).putInt8("i8", -3).putUint16("u16", 60000)
                .putInt16("i16", -300).putUint32("u32", 4_000_000_000L).putInt32("i32", -7).putUint64("u64", 1L << 40)
                .putInt64("i64", -1L << 40).putFloat32("f32", 1.5f).putFloat64("f64", -2.25).putBool("b", true)
                .putStringArray("tokenizer.ggml.tokens", List.of("<pad>", "a", "\u00e9t\u00e9"))
                .putFloat32Array("scores", new float[] {0, -1, -2}).putInt32Array("types", new int[] {3, 1, 1})
                .putArray("flags", GgufWriter.ValueType.BOOL, new boolean[] {true, false});
        float[] f = new float[64];
        for (int i = 0; i < f.length; i++) f[i] = (i - 32) / 8f;
        w.addTensor("a.weight", new long[] {8, 2}, GgmlType.F32, java.util.Arrays.copyOf(f, 16));
        w.addTensor("h.weight", new long[] {4}, GgmlType.F16, new float[] {1, 2, 3, 4});
        w.addTensor("bf.weight", new long[] {2, 1}, GgmlType.BF16, new float[] {0.5f, -0.5f});
        w.addTensor("q8.weight", new long[] {32, 2}, GgmlType.Q8_0, f);
        byte[] q4 = new byte[18];
        q4[1] = 0x3c; // d = 1.0 in F16
        for (int i = 2; i < 18; i++) q4[i] = (byte) (i * 17);
        w.addRawTensor("q4.weight", new long[] {32}, GgmlType.Q4_0, q4);
        return bytes(dir, "s.gguf", w::write);
    }

    /** One layer, d=32, 400 tokens: the smallest file {@code requireGemma2()} accepts. */
    static byte[] tinyGemma2(Path dir) throws IOException {
        Gemma2Config c = new Gemma2Config(1, 32, 2, 1, 16, 32, 400, 64, 1e-6f, 50f, 30f, 8, 10000f);
        Vocabulary v = Vocabulary.build(List.of("Paris", "France"), c.nVocab());
        return bytes(dir, "g.gguf", p -> ToyModels.write(p, c, v, 7L, GgmlType.F32));
    }

    static byte[] promptsJsonl() {
        return utf8("{\"text\": \"The capital of France is\", \"facet\": \"geography\"}\n{\"text\": \"Bonjour\"}\r\n{\"text\": \"\u00c9cole\", \"facet\": null}\n");
    }

    static byte[] promptsTxt() {
        return cat(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, utf8("The Eiffel Tower\r\n\n  Croissant  \nThe Eiffel Tower\n\n"));
    }

    static byte[] saeConfig() {
        return utf8(SaeConfig.gemmaScope(2304, 16384, 12, "gemma-2-2b/12-gemmascope-res-16k").toJson());
    }

    static byte[] base(Target t, Path dir) throws IOException {
        return switch (t) {
            case NPY -> npyF32(dir);
            case NPZ -> npz(dir);
            case SAFETENSORS -> safetensors(dir);
            case GGUF -> gguf(dir);
            case PROMPTS_JSONL -> promptsJsonl();
            case PROMPTS_TXT -> promptsTxt();
            case SAE_CONFIG -> saeConfig();
        };
    }

    // ------------------------------------------------------------------ seed corpus

    /** Seeds per target, name to bytes; names say what the reader must do with them. */
    static Map<String, byte[]> seeds(Target t, Path dir) throws IOException {
        Map<String, byte[]> s = new LinkedHashMap<>();
        byte[] base = base(t, dir);
        s.put("valid-base", base);
        // half a text file is still a text file; for every other format it is a broken one
        if (t != Target.PROMPTS_TXT) s.put("bad-truncated-half", java.util.Arrays.copyOf(base, base.length / 2));
        switch (t) {
            case NPY -> {
                s.put("valid-f16-1d", bytes(dir, "a.npy", p -> NpyWriter.write(p, DType.F16, new long[] {5}, MemorySegment.ofArray(new byte[10]))));
                s.put("valid-scalar", bytes(dir, "a.npy", p -> NpyWriter.write(p, DType.F32, new long[] {}, floats(3))));
                s.put("valid-empty-0x3", bytes(dir, "a.npy", p -> NpyWriter.write(p, DType.F32, new long[] {0, 3}, MemorySegment.ofArray(new byte[0]))));
                s.put("valid-v3-header", npyRaw(3, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1,), }\n", new byte[4]));
                s.put("bad-header-len-65535-garbage", cat(npyPrefix(1, 0xFFFF), garbage(0xFFFF)));
                s.put("bad-header-len-4G", cat(npyPrefix(2, -1), garbage(64)));
                s.put("bad-fortran", npyRaw(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }\n", new byte[4]));
                s.put("bad-big-endian", npyRaw(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n", new byte[4]));
                s.put("bad-pickled-object", npyRaw(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n", new byte[8]));
                s.put("bad-shape-overflow", npyRaw(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (999999999999999999, 999999999999999999), }\n", new byte[0]));
            }
            case NPZ -> {
                s.put("valid-no-members", bytes(dir, "a.npz", p -> NpzWriter.write(p, Map.of())));
                s.put("bad-deflated", deflatedNpz(npyF32(dir)));
                s.put("bad-bomb-declares-2GB", npzDeclaring(base, 0x7FFF_FFFF));
                s.put("bad-bomb-declares-4GB-no-zip64", npzDeclaring(base, 0xFFFF_FFFF));
            }
            case SAFETENSORS -> {
                s.put("valid-empty-header", cat(le(8).putLong(8).array(), utf8("{}      ")));
                s.put("bad-header-100MB-plus-1", cat(le(8).putLong((100L << 20) + 1).array(), utf8("{}")));
                s.put("bad-header-negative", cat(le(8).putLong(-1).array(), utf8("{}")));
                s.put("bad-overlap", safetensorsRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8));
                s.put("bad-huge-shape", safetensorsRaw("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}", 4));
                s.put("bad-deep-nesting", safetensorsRaw("{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", 0));
            }
            case GGUF -> {
                s.put("valid-tiny-gemma2", tinyGemma2(dir));
                byte[] nt = base.clone();
                le(8).putLong(Long.MIN_VALUE).flip().get(nt, 8, 8);
                s.put("bad-n-tensors-2pow63", nt);
                byte[] sl = base.clone();
                le(8).putLong(1L << 62).flip().get(sl, 24, 8);
                s.put("bad-key-length-2pow62", sl);
                byte[] kv = base.clone();
                le(8).putLong(Long.MAX_VALUE).flip().get(kv, 16, 8);
                s.put("bad-n-kv-max", kv);
            }
            case PROMPTS_JSONL -> {
                s.put("bad-blank-line", utf8("{\"text\": \"a\"}\n\n{\"text\": \"b\"}\n"));
                s.put("bad-unknown-key", utf8("{\"text\": \"a\", \"facte\": \"x\"}\n"));
                s.put("bad-invalid-utf8", cat(utf8("{\"text\": \""), new byte[] {(byte) 0xC3, 0x28}, utf8("\"}\n")));
                s.put("bad-not-an-object", utf8("[\"text\"]\n"));
                s.put("bad-empty", new byte[0]);
                s.put("bad-deep-nesting", utf8("{\"text\": \"a\", \"facet\": " + "[".repeat(3000) + "]".repeat(3000) + "}\n"));
            }
            case PROMPTS_TXT -> {
                s.put("bad-only-blank-lines", utf8("\n \r\n\t\n"));
                s.put("bad-invalid-utf8", cat(utf8("fine\n"), new byte[] {(byte) 0xF0, (byte) 0x9F, 0x41}, utf8("\n")));
                s.put("bad-bom-only", new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
            }
            case SAE_CONFIG -> {
                s.put("valid-saelens-minimal", utf8("{\"d_in\": 8, \"d_sae\": 16, \"architecture\": \"jumprelu\", \"hook_name\": \"blocks.3.hook_resid_post\", \"model_name\": \"m\", \"apply_b_dec_to_input\": false}"));
                s.put("bad-architecture", utf8("{\"d_in\": 8, \"d_sae\": 16, \"architecture\": \"gated\", \"hook_name\": \"blocks.3.x\", \"model_name\": \"m\"}"));
                s.put("bad-json-null", utf8("null"));
                s.put("bad-invalid-utf8", cat(utf8("{\"d_in\": 8, \"model_name\": \""), new byte[] {(byte) 0xFF}, utf8("\"}")));
                s.put("bad-layer-overflow", utf8("{\"d_in\": 8, \"d_sae\": 16, \"architecture\": \"jumprelu\", \"hook_name\": \"blocks.99999999999.x\", \"model_name\": \"m\"}"));
                s.put("bad-d-in-overflow", utf8("{\"d_in\": 99999999999999, \"d_sae\": 16, \"architecture\": \"jumprelu\", \"hook_name\": \"blocks.3.x\", \"model_name\": \"m\"}"));
            }
        }
        return s;
    }

    private static byte[] garbage(int n) {
        byte[] b = new byte[n];
        java.util.Random r = new java.util.Random(n);
        r.nextBytes(b);
        return b;
    }

    private static byte[] npyPrefix(int major, int headerLen) {
        ByteBuffer b = le(major == 1 ? 10 : 12).put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) b.putShort((short) headerLen); else b.putInt(headerLen);
        return b.array();
    }

    private static byte[] npyRaw(int major, String dict, byte[] data) {
        byte[] h = utf8(dict);
        return cat(npyPrefix(major, h.length), h, data);
    }

    private static byte[] safetensorsRaw(String json, int dataBytes) {
        byte[] j = utf8(json);
        return cat(le(8).putLong(j.length).array(), j, new byte[dataBytes]);
    }

    private static byte[] deflatedNpz(byte[] npy) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bos)) {
            ZipEntry e = new ZipEntry("W.npy");
            e.setTime(315576000000L); // fixed, so the seed is reproducible
            z.putNextEntry(e);
            z.write(npy);
            z.closeEntry();
        }
        return bos.toByteArray();
    }

    /** The archive with every central-directory entry's sizes patched to {@code declared}. */
    static byte[] npzDeclaring(byte[] npz, int declared) {
        byte[] b = npz.clone();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int p = 0; p + 46 <= b.length; p++) {
            if (bb.getInt(p) == 0x02014b50) {
                bb.putInt(p + 20, declared);
                bb.putInt(p + 24, declared);
            }
        }
        return b;
    }
}
