package dev.jlens.slice;

import dev.jlens.api.LayerActivations;
import dev.jlens.api.LensModel;
import dev.jlens.api.LensSession;
import dev.jlens.api.Slices;
import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufFile;
import dev.jlens.formats.GgufSlice;
import dev.jlens.toy.ToyModelJob;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A slice through layer L captures layers 0..L with exactly the bits of the full model, for every type the toy writer
 * produces, through llama.cpp on the CPU backend; its file holds exactly the non-block tensors and blocks 0..L+1, byte
 * for byte, with the slice recorded in its metadata.
 */
class SliceCaptureTest {
    static final int LAYER = 5;
    static final List<String> PROMPTS = List.of("The capital of France is Paris.", "A cat sat on the mat.",
            "Paris is a city in France where people eat bread and cheese.");

    @TempDir Path dir;

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F32", "F16", "Q8_0", "Q4_0"})
    void captureFromTheSliceEqualsCaptureFromTheFullModelBitForBit(GgmlType type) throws Exception {
        Path full = dir.resolve("full.gguf");
        Path slice = dir.resolve("slice.gguf");
        ToyModelJob.write(full, ToyModelJob.Kind.TINY, type, 11);
        Slices.Slice s = Slices.write(full, LAYER, slice);
        assertEquals(14, s.sourceLayers());
        assertEquals(LAYER + 2, s.layers());
        assertTrue(s.bytes() < s.sourceBytes(), s.toString());
        System.out.printf("slice %s through layer %d: %d of %d bytes (%.1f%%)%n", type, LAYER, s.bytes(), s.sourceBytes(), 100 * s.sizeRatio());

        assertFileIsTheSliceOf(full, slice);
        assertEquals(LAYER, Slices.throughLayer(slice).orElseThrow());
        assertTrue(Slices.throughLayer(full).isEmpty());

        try (LensModel fm = LensModel.load(full); LensModel sm = LensModel.load(slice);
             LensSession fs = fm.newSession(256, 2); LensSession ss = sm.newSession(256, 2)) {
            assertEquals(LAYER + 2, sm.layers());
            for (int layer : new int[] {0, LAYER - 2, LAYER}) {
                try (LayerActivations a = fs.capture(PROMPTS, layer); LayerActivations b = ss.capture(PROMPTS, layer)) {
                    assertEquals(a.rows(), b.rows());
                    for (int r = 0; r < a.rows(); r++) assertEquals(a.token(r), b.token(r));
                    long mismatch = a.data().mismatch(b.data());
                    assertEquals(-1, mismatch, type + " layer " + layer + ": first differing byte " + mismatch);
                    assertNotAllZero(b.data());
                }
            }
        }
    }

    /** Every kept tensor's bytes equal the source's; the block count, alignment and slice keys are as documented. */
    static void assertFileIsTheSliceOf(Path full, Path slice) throws Exception {
        try (GgufFile f = GgufFile.open(full); GgufFile s = GgufFile.open(slice)) {
            assertEquals(f.alignment(), s.alignment());
            assertEquals(LAYER + 2, s.getLong("gemma2.block_count"));
            assertEquals(LAYER, s.getLong(GgufSlice.THROUGH_LAYER_KEY));
            assertEquals(14, s.getLong(GgufSlice.SOURCE_BLOCKS_KEY));
            assertEquals(64, s.getString(GgufSlice.SOURCE_SHA256_KEY).length());
            assertEquals(f.getStringList("tokenizer.ggml.tokens"), s.getStringList("tokenizer.ggml.tokens"));
            for (String key : f.metadata().keySet()) {
                if (key.equals("gemma2.block_count")) continue;
                assertTrue(s.has(key), "slice lacks " + key);
                assertEquals(f.type(key), s.type(key), key);
                if (!(f.metadata().get(key) instanceof List<?>)) assertEquals(f.metadata().get(key), s.metadata().get(key), key);
            }
            int kept = 0;
            for (GgufFile.TensorInfo t : f.tensors()) {
                boolean keep = !t.name().startsWith("blk.") || Integer.parseInt(t.name().split("\\.")[1]) <= LAYER + 1;
                assertEquals(keep, s.tensor(t.name()).isPresent(), t.name());
                if (!keep) continue;
                kept++;
                GgufFile.TensorInfo u = s.tensor(t.name()).orElseThrow();
                assertEquals(t.type(), u.type(), t.name());
                assertArrayEquals(t.ne(), u.ne(), t.name());
                assertEquals(-1, f.data(t).mismatch(s.data(u)), t.name() + " bytes differ");
            }
            assertEquals(kept, s.tensors().size());
            assertTrue(s.tensor("token_embd.weight").isPresent() && s.tensor("output_norm.weight").isPresent());
        }
    }

    static void assertNotAllZero(MemorySegment m) {
        for (long i = 0; i < m.byteSize(); i++) if (m.get(java.lang.foreign.ValueLayout.JAVA_BYTE, i) != 0) return;
        fail("capture is all zeros");
    }
}
