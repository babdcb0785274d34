package dev.jlens.formats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * GgufSlice on hand-made GGUFs (pure Java): every metadata value type survives with its exact type and value, arrays
 * indexed by block are cut to the slice's blocks, a non-default alignment is kept, block tensors above L+1 are dropped
 * and the others copied byte for byte, and a slice of a slice describes itself afresh.
 */
class GgufSliceTest {
    @TempDir Path dir;

    static Path model(Path file, int blocks, int alignment) throws Exception {
        GgufWriter w = new GgufWriter().alignment(alignment);
        w.putString("general.architecture", "gemma2").putUint32("gemma2.block_count", blocks);
        w.putUint8("t.u8", 200).putInt8("t.i8", -7).putUint16("t.u16", 60000).putInt16("t.i16", -3000).putUint32("t.u32", 4_000_000_000L)
                .putInt32("t.i32", -5).putFloat32("t.f32", 1.5f).putBool("t.bool", true).putUint64("t.u64", 1L << 40).putInt64("t.i64", -(1L << 40))
                .putFloat64("t.f64", Math.PI);
        int[] perLayer = new int[blocks];
        for (int i = 0; i < blocks; i++) perLayer[i] = 100 + i;
        w.putInt32Array("gemma2.attention.head_count_kv", perLayer);
        w.putStringArray("tokenizer.ggml.tokens", List.of("<pad>", "<bos>", "a", "b"));
        w.putFloat32Array("tokenizer.ggml.scores", new float[] {0, 0, -1, -2});
        w.putArray("t.u8s", GgufWriter.ValueType.UINT8, new byte[] {1, (byte) 255});
        w.putArray("t.u64s", GgufWriter.ValueType.UINT64, new long[] {7, 1L << 50});
        w.putArray("t.bools", GgufWriter.ValueType.BOOL, new boolean[] {true, false});
        w.putArray("t.f64s", GgufWriter.ValueType.FLOAT64, new double[] {0.25});
        w.putArray("t.i16s", GgufWriter.ValueType.INT16, new short[] {-2, 3});
        w.addTensor("token_embd.weight", new long[] {32, 4}, GgmlType.Q8_0, seq(128, 0.5f));
        for (int b = 0; b < blocks; b++) {
            w.addTensor("blk." + b + ".attn_norm.weight", new long[] {32}, GgmlType.F32, seq(32, b));
            w.addTensor("blk." + b + ".ffn_up.weight", new long[] {32, 3}, GgmlType.F16, seq(96, b + 0.25f));
        }
        w.addTensor("output_norm.weight", new long[] {32}, GgmlType.F32, seq(32, 9));
        w.write(file);
        return file;
    }

    static float[] seq(int n, float base) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = base + i * 0.01f;
        return a;
    }

    @Test
    void metadataTypesArraysAlignmentAndTensorsAreKept() throws Exception {
        Path src = model(dir.resolve("m.gguf"), 6, 64);
        Path out = dir.resolve("s.gguf");
        GgufSlice.Result r = GgufSlice.write(src, 2, out);
        assertEquals(4, r.blocks());
        assertEquals(6, r.sourceBlocks());
        assertEquals(2 + 4 * 2, r.tensors());
        try (GgufFile f = GgufFile.open(src); GgufFile s = GgufFile.open(out)) {
            assertEquals(64, s.alignment());
            assertEquals(4, s.getU32("gemma2.block_count"));
            assertEquals(2, s.getU32(GgufSlice.THROUGH_LAYER_KEY));
            assertEquals(6, s.getU32(GgufSlice.SOURCE_BLOCKS_KEY));
            assertEquals(r.sourceSha256(), s.getString(GgufSlice.SOURCE_SHA256_KEY));
            assertEquals(r.sourceSha256(), java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(src))));
            for (String k : f.metadata().keySet()) {
                assertEquals(f.type(k), s.type(k), k);
                assertEquals(f.arrayType(k), s.arrayType(k), k);
                if (k.equals("gemma2.block_count")) continue;
                if (k.equals("gemma2.attention.head_count_kv")) {
                    assertEquals(List.of(100, 101, 102, 103), List.copyOf(s.getList(k)), "per-layer array cut to 4 blocks");
                } else {
                    assertEquals(f.metadata().get(k) instanceof List<?> l ? List.copyOf(l) : f.metadata().get(k),
                            s.metadata().get(k) instanceof List<?> l ? List.copyOf(l) : s.metadata().get(k), k);
                }
            }
            for (GgufFile.TensorInfo t : f.tensors()) {
                boolean above = t.name().startsWith("blk.") && Integer.parseInt(t.name().split("\\.")[1]) > 3;
                assertEquals(!above, s.tensor(t.name()).isPresent(), t.name());
                if (!above) assertEquals(-1, f.data(t).mismatch(s.data(s.requireTensor(t.name()))), t.name());
            }
        }
        assertTrue(GgufSlice.throughLayer(out).isPresent());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GgufSlice.refuseSlice(out, "steering"));
        assertTrue(e.getMessage().contains("steering needs the full model"), e.getMessage());
        GgufSlice.refuseSlice(src, "steering"); // a full model passes
    }

    @Test
    void aSliceOfASliceRecordsItsOwnSourceAndLayer() throws Exception {
        Path src = model(dir.resolve("m.gguf"), 6, 32);
        Path s1 = dir.resolve("s1.gguf"), s2 = dir.resolve("s2.gguf");
        GgufSlice.Result a = GgufSlice.write(src, 3, s1);
        GgufSlice.Result b = GgufSlice.write(s1, 1, s2);
        assertNotEquals(a.sourceSha256(), b.sourceSha256());
        try (GgufFile s = GgufFile.open(s2)) {
            assertEquals(3, s.getU32("gemma2.block_count"));
            assertEquals(1, s.getU32(GgufSlice.THROUGH_LAYER_KEY));
            assertEquals(5, s.getU32(GgufSlice.SOURCE_BLOCKS_KEY));
            assertEquals(b.sourceSha256(), s.getString(GgufSlice.SOURCE_SHA256_KEY));
        }
    }

    @Test
    void outOfRangeLayersAndTheInputAsOutputAreRefusedBeforeWriting() throws Exception {
        Path src = model(dir.resolve("m.gguf"), 3, 32);
        Path out = dir.resolve("s.gguf");
        for (int l : new int[] {-1, 2, 3}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GgufSlice.write(src, l, out));
            assertTrue(e.getMessage().contains("--through-layer " + l) && e.getMessage().contains("0..1"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> GgufSlice.write(src, 0, dir.resolve(".").resolve("m.gguf")));
        assertFalse(Files.exists(out));
        assertEquals(3, GgufSlice.write(src, 1, out).blocks());
    }
}
