package dev.jlens.api;

import dev.jlens.formats.FormatException;
import dev.jlens.formats.Npy;
import dev.jlens.formats.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The file-level facades of the public API, as the `toy-model`, `toy-sae`, `info`, `capture` and `encode` commands
 * use them: generated model and SAEs, the GGUF header, prompt files, capture and codes folders, bad-input
 * classification. The capture folder is checked against an in-memory {@link LensSession} capture.
 */
class FilesApiTest {
    @TempDir static Path dir;
    static Path model;
    static Toys.ModelFile written;

    @BeforeAll
    static void toyModel() throws IOException {
        model = dir.resolve("tiny.gguf");
        written = Toys.writeModel(model, "tiny", "f32", 3);
    }

    @Test
    void toyModelIsWrittenWithTheSaidShape() {
        assertEquals(model, written.path());
        assertEquals(14, written.layers());
        assertEquals(64, written.dModel());
        assertEquals("F32", written.type());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Toys.writeModel(dir.resolve("h.gguf"), "huge", "f32", 1));
        assertTrue(e.getMessage().contains("unknown model kind 'huge'"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Toys.writeModel(dir.resolve("h.gguf"), "tiny", "q5_k", 1));
        assertFalse(Files.exists(dir.resolve("h.gguf")));
    }

    @Test
    void modelInfoReadsTheHeaderTheLoaderSees() throws IOException {
        ModelInfo h = ModelInfo.read(model);
        assertEquals(written.layers(), h.layers());
        assertEquals(written.dModel(), h.dModel());
        assertEquals(written.vocab(), h.vocab());
        assertEquals(3, h.ggufVersion());
        assertEquals(Map.of("F32", h.tensorCount()), h.tensorTypes(), "every tensor of an f32 toy is F32");
        try (LensModel m = LensModel.load(model)) {
            assertEquals(m.layers(), h.layers());
            assertEquals(m.dModel(), h.dModel());
        }
        assertThrows(UnsupportedOperationException.class, () -> h.tensorTypes().put("F16", 1));
    }

    @Test
    void modelInfoOnACorruptOrMissingFileIsBadInput() throws IOException {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0});
        IOException e = assertThrows(IOException.class, () -> ModelInfo.read(bad));
        assertTrue(e.getMessage().contains("bad.gguf"), e.getMessage());
        assertTrue(Failures.isBadInput(e), e.toString());
        IOException missing = assertThrows(IOException.class, () -> ModelInfo.read(dir.resolve("missing.gguf")));
        assertTrue(Failures.isBadInput(missing), missing.toString());
    }

    @Test
    void failuresSeparatesBadInputFromFailedRuns() {
        assertTrue(Failures.isBadInput(new IllegalArgumentException("x")));
        assertTrue(Failures.isBadInput(new NoSuchFileException("f")));
        assertTrue(Failures.isBadInput(new FormatException(Path.of("f"), "field", "value")));
        assertFalse(Failures.isBadInput(new IOException("disk full")));
        assertFalse(Failures.isBadInput(new IllegalStateException("x")));
        assertFalse(Failures.isBadInput(new UncheckedIOException(new NoSuchFileException("f"))), "causes are the caller's to unwrap");
        assertFalse(Failures.isBadInput(null));
    }

    @Test
    void promptsLoadTextAndJsonlAndRejectMalformedFiles() throws IOException {
        Path txt = dir.resolve("p.txt"), jsonl = dir.resolve("p.jsonl");
        Files.writeString(txt, "The capital of France is Paris.\n\n  A short walk by the river.  \n");
        Files.writeString(jsonl, "{\"text\": \"Bread and cheese\", \"facet\": \"cuisine\"}\n{\"text\": \"A cat\"}\n");
        assertEquals(List.of("The capital of France is Paris.", "A short walk by the river."), Prompts.load(txt));
        assertEquals(List.of("Bread and cheese", "A cat"), Prompts.load(jsonl));
        Path typo = dir.resolve("typo.jsonl"), empty = dir.resolve("empty.txt"), csv = dir.resolve("p.csv");
        Files.writeString(typo, "{\"text\": \"a\", \"facte\": \"b\"}\n");
        Files.writeString(empty, "\n");
        Files.writeString(csv, "a\n");
        for (Path p : List.of(typo, empty, csv)) {
            IOException e = assertThrows(IOException.class, () -> Prompts.load(p));
            assertTrue(Failures.isBadInput(e) && e.getMessage().contains(p.getFileName().toString()), e.toString());
        }
    }

    @Test
    void captureFolderHoldsTheSessionsActivationsAndEncodesToCodes() throws Exception {
        List<String> prompts = List.of("The capital of France is Paris.", "A short walk by the river.", "Bread and cheese");
        Path out = dir.resolve("cap");
        List<long[]> seen = new CopyOnWriteArrayList<>();
        CaptureFolder.Options o = CaptureFolder.Options.defaults().withContextTokens(256).withThreads(2);
        CaptureFolder.Result r = CaptureFolder.write(model, prompts, 5, out, o, (stage, done, total) -> {
            if (stage.equals("capture")) seen.add(new long[] {done, total});
        });
        assertEquals(5, r.layer());
        assertEquals(64, r.dModel());
        assertEquals(out.resolve("activations.npy"), r.activations());
        assertEquals(out.resolve("tokens.csv"), r.tokens());
        assertTrue(Files.isRegularFile(out.resolve("capture.json")));
        assertFalse(seen.isEmpty(), "progress reported");
        assertArrayEquals(new long[] {r.rows(), r.rows()}, seen.getLast(), "the last update says done");

        try (LensModel m = LensModel.load(model); LensSession s = m.newSession(256, 2); LayerActivations x = s.capture(prompts, 5);
             Arena a = Arena.ofConfined()) {
            assertEquals(x.rows(), r.rows());
            Tensor t = Npy.read(r.activations(), a);
            assertArrayEquals(new long[] {x.rows(), 64}, t.shape());
            double num = 0, den = 0;
            for (long i = 0; i < (long) x.rows() * 64; i++) {
                float u = x.data().getAtIndex(ValueLayout.JAVA_FLOAT, i), v = t.data().getAtIndex(ValueLayout.JAVA_FLOAT, i);
                num += (u - v) * (double) (u - v);
                den += (double) u * u;
            }
            assertTrue(Math.sqrt(num / den) < 1e-5, "folder vs session relative difference " + Math.sqrt(num / den));
            List<String> csv = Files.readAllLines(r.tokens());
            assertEquals("prompt,position,token_id,text", csv.getFirst());
            assertTrue(csv.get(1).startsWith("0,0," + m.bosToken() + ","), csv.get(1));
        }

        Path npz = dir.resolve("sae/layer_5/width_256/params.npz");
        new Toys.RandomSae(64, 256, 9, 20, 5).writeGemmaScopeNpz(npz);
        List<String> stages = new ArrayList<>();
        CodesFolder.Metrics mt = CodesFolder.write(npz.toString(), r.activations(), dir.resolve("codes"), EncoderKind.VECTOR, (st, d, n) -> stages.add(st));
        assertEquals(r.rows(), mt.rows());
        assertEquals(prompts.size(), mt.rowsExcludedAsBos(), "one BOS row per prompt");
        assertEquals(256, mt.dSae());
        assertEquals("vector", mt.encoder());
        assertTrue(mt.meanL0() > 0 && mt.meanL0() < 256, "L0 " + mt.meanL0());
        assertEquals(1.0, mt.decoderRowNormMin(), 1e-5);
        assertTrue(stages.contains("encode"), stages.toString());
        assertTrue(Files.readString(dir.resolve("codes/metrics.json")).contains("\"rows_excluded_as_bos\" : " + prompts.size()));
        try (ZipFile z = new ZipFile(dir.resolve("codes/codes.npz").toFile())) {
            for (String member : List.of("data.npy", "indices.npy", "indptr.npy", "shape.npy", "format.npy")) assertNotNull(z.getEntry(member), member);
        }
        Exception wrongWidth = assertThrows(Exception.class, () -> {
            Path other = dir.resolve("sae/layer_5/width_32/params.npz");
            new Toys.RandomSae(32, 64, 1, 4, 5).writeGemmaScopeNpz(other);
            CodesFolder.write(other.toString(), r.activations(), dir.resolve("codes2"), EncoderKind.AUTO, null);
        });
        assertTrue(Failures.isBadInput(wrongWidth) && wrongWidth.getMessage().contains("d_in=32"), wrongWidth.toString());
    }

    @Test
    void captureFolderRejectsBadInputBeforeWriting() {
        Path out = dir.resolve("never");
        CaptureFolder.Options o = CaptureFolder.Options.defaults().withThreads(2);
        assertThrows(IllegalArgumentException.class, () -> CaptureFolder.write(model, List.of(), 5, out, o, null));
        assertThrows(IllegalArgumentException.class, () -> CaptureFolder.write(model, List.of("ok", " "), 5, out, o, null));
        assertThrows(IllegalArgumentException.class, () -> CaptureFolder.write(dir.resolve("missing.gguf"), List.of("a"), 5, out, o, null));
        assertThrows(IllegalArgumentException.class, () -> new CaptureFolder.Options(0, 512, 64, 2, 0, false, false));
        assertThrows(IllegalArgumentException.class, () -> o.withThreads(0));
        assertEquals(100, o.withContextTokens(100).params().nUbatch(), "steps are capped at the context");
        assertFalse(Files.exists(out));
    }

    @Test
    void gpuCaptureWithoutAGpuSaysSo() {
        assumeFalse(LensModel.hasGpu(), "this machine has a GPU device");
        for (boolean isolated : new boolean[] {false, true}) {
            CaptureFolder.Options o = CaptureFolder.Options.defaults().withGpuCapture(true).withIsolated(isolated);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> CaptureFolder.write(model, List.of("a"), 5, dir.resolve("g"), o, null));
            assertTrue(e.getMessage().contains("needs a llama.cpp build with a GPU backend"), e.getMessage());
        }
    }

    @Test
    void randomSaeWritesBothLayoutsThatLoadAndValidatesItsShape() throws IOException {
        Toys.RandomSae sae = new Toys.RandomSae(64, 128, 7, 10, 5);
        Path npz = dir.resolve("rs/layer_5/width_128/params.npz"), lens = dir.resolve("rs-lens");
        sae.writeGemmaScopeNpz(npz);
        sae.writeSaeLensDir(lens, true);
        try (SparseAutoencoder a = SparseAutoencoder.load(npz.toString()); SparseAutoencoder b = SparseAutoencoder.load(lens.toString())) {
            assertEquals(64, a.dIn());
            assertEquals(128, b.dSae());
            float[] ra = a.decoderRow(3), rb = b.decoderRow(3);
            double n = 0;
            for (int k = 0; k < 64; k++) {
                n += (double) ra[k] * ra[k];
                assertEquals(ra[k], rb[k], Math.abs(ra[k]) / 128 + 1e-6, "bf16 copy of the same row");
            }
            assertEquals(1.0, Math.sqrt(n), 1e-5);
        }
        assertEquals(12, new Toys.RandomSae(64, 128, 7, 10).layer());
        assertThrows(IllegalArgumentException.class, () -> new Toys.RandomSae(0, 128, 7, 10));
        assertThrows(IllegalArgumentException.class, () -> new Toys.RandomSae(64, 128, 7, 128));
        assertThrows(IllegalArgumentException.class, () -> new Toys.RandomSae(64, 128, 7, 10, -1));
    }
}
