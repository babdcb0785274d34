package dev.jlens.cli;

import dev.jlens.formats.Npy;
import dev.jlens.formats.Tensor;
import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.*;

/** The CLI end to end on real files and the real llama.cpp: toy-model, info, capture, toy-sae, encode. */
class CliCaptureTest {
    @TempDir static Path dir;
    static Path model;

    static CliRunner.Run run(String... args) {
        return CliRunner.run(args);
    }

    @BeforeAll
    static void makeModel() {
        model = dir.resolve("tiny.gguf");
        CliRunner.Run r = run("toy-model", "--kind", "tiny", "--out", model.toString());
        assertEquals(0, r.code(), r.err());
    }

    @Test
    void infoPrintsTheValidatedHeader() {
        CliRunner.Run r = run("info", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("architecture  gemma2") && r.out().contains("layers        14") && r.out().contains("d_model       64"), r.out());
    }

    @Test
    void nativesNamesTheFolderAndTheCpuVariantRunning() {
        CliRunner.Run r = run("natives");
        assertEquals(0, r.code(), r.err());
        dev.jlens.llama.NativeLibrary lib = dev.jlens.llama.NativeLibrary.load();
        assertTrue(r.out().contains("folder        " + lib.directory()), r.out());
        assertTrue(r.out().contains("(commit " + lib.ggmlCommit() + ")"), r.out());
        String file = lib.cpuBackend().getFileName().toString();
        String variant = file.startsWith("libggml-cpu-") ? file.substring(12, file.length() - 3) : "native";
        assertTrue(r.out().contains("cpu backend   " + variant + " (" + lib.cpuBackend() + ")"), r.out());
    }

    @Test
    void infoOnACorruptFileExitsWithTwoAndNamesTheFile() throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0});
        CliRunner.Run r = run("info", bad.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("bad.gguf"), r.err());
    }

    @Test
    void captureWritesActivationsThatRoundTripAndMatchTheApi() throws Exception {
        Path prompts = dir.resolve("p.txt");
        Files.writeString(prompts, "The capital of France is Paris.\n\nA short walk by the river.\nBread and cheese\n");
        Path out = dir.resolve("cap");
        CliRunner.Run r = run("capture", "--model", model.toString(), "--layer", "12", "--prompts", prompts.toString(), "--out", out.toString(),
                "--ubatch", "4", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        List<int[]> toks = new ArrayList<>();
        try (Model m = Model.load(model); Arena a = Arena.ofConfined()) {
            for (String p : List.of("The capital of France is Paris.", "A short walk by the river.", "Bread and cheese")) toks.add(m.vocab().tokenize(p));
            Tensor t = Npy.read(out.resolve("activations.npy"), a);
            int total = toks.stream().mapToInt(x -> x.length).sum();
            assertArrayEquals(new long[] {total, 64}, t.shape());
            try (Context c = m.newContext(Context.Params.defaults().withCtx(512).withUbatch(4).withThreads(2));
                 Activations direct = c.capture(toks, Context.CaptureSpec.layer(12))) {
                assertEquals(-1L, direct.data().mismatch(t.data()), "activations.npy differs from the API's capture");
            }
            List<String> csv = Files.readAllLines(out.resolve("tokens.csv"));
            assertEquals("prompt,position,token_id,text", csv.get(0));
            assertEquals(total + 1, csv.size());
            assertTrue(csv.get(1).startsWith("0,0," + m.vocab().bos() + ","), csv.get(1));
            assertTrue(Files.readString(out.resolve("capture.json")).contains("\"bos_token_id\" : " + m.vocab().bos()));
        }
        assertTrue(r.err().contains("capture"), "progress bar on stderr");

        // encode with a toy SAE of the model's width
        Path npz = dir.resolve("sae/layer_12/width_256/params.npz");
        assertEquals(0, run("toy-sae", "--d-in", "64", "--d-sae", "256", "--l0", "20", "--npz", npz.toString()).code());
        Path enc = dir.resolve("enc");
        CliRunner.Run e = run("encode", "--sae", npz.toString(), "--activations", out.resolve("activations.npy").toString(), "--out", enc.toString(), "--encoder", "vector");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("3 BOS rows excluded"), e.out());
        String metrics = Files.readString(enc.resolve("metrics.json"));
        assertTrue(metrics.contains("\"mean_l0\"") && metrics.contains("\"rows_excluded_as_bos\" : 3"), metrics);
        try (ZipFile z = new ZipFile(enc.resolve("codes.npz").toFile())) {
            for (String m : List.of("data.npy", "indices.npy", "indptr.npy", "shape.npy", "format.npy")) assertNotNull(z.getEntry(m), m);
        }
    }

    @Test
    void quantizedToyModelsLoadAndCapture() throws Exception {
        for (String type : List.of("q8_0", "q4_0")) {
            Path q = dir.resolve("tiny-" + type + ".gguf");
            CliRunner.Run r = run("toy-model", "--kind", "tiny", "--type", type, "--out", q.toString());
            assertEquals(0, r.code(), r.err());
            CliRunner.Run info = run("info", q.toString());
            assertTrue(info.out().contains(type.toUpperCase()), info.out());
            try (Model m = Model.load(q); Context c = m.newContext(Context.Params.defaults().withCtx(128).withThreads(2));
                 Activations a = c.capture(List.of(m.vocab().tokenize("the capital of France")), Context.CaptureSpec.layer(12))) {
                assertTrue(a.rows() >= 2);
                assertTrue(Float.isFinite(a.get(12, 1, 0)));
            }
        }
    }

    @Test
    void badInputGetsExitCodeTwo() throws Exception {
        Path prompts = dir.resolve("empty.txt");
        Files.writeString(prompts, "");
        CliRunner.Run r = run("capture", "--model", model.toString(), "--prompts", prompts.toString(), "--out", dir.resolve("x").toString());
        assertEquals(2, r.code(), r.err());
        CliRunner.Run r2 = run("capture", "--model", dir.resolve("missing.gguf").toString(), "--prompts", prompts.toString(), "--out", dir.resolve("x").toString());
        assertEquals(2, r2.code(), r2.err());
        CliRunner.Run r3 = run("toy-model", "--kind", "huge", "--out", dir.resolve("h.gguf").toString());
        assertEquals(2, r3.code());
        assertTrue(r3.err().contains("unknown model kind 'huge'"), r3.err());
    }

    @Test
    void gpuCaptureWithoutAGpuIsAClearError() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.jlens.llama.Backends.gpus().isEmpty(), "this machine has a GPU device");
        Path prompts = dir.resolve("p.txt");
        Files.writeString(prompts, "the capital of France is Paris\n");
        CliRunner.Run r = run("capture", "--model", model.toString(), "--prompts", prompts.toString(), "--gpu-capture",
                "--out", dir.resolve("g").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("GPU"), r.err());
        CliRunner.Run f = run("france", "--model", model.toString(), "--coarse-sae", "x", "--fine-sae", "y", "--gpu-capture",
                "--out", dir.resolve("f").toString());
        assertEquals(2, f.code(), f.err());
        assertTrue(f.err().contains("--gpu-capture needs a llama.cpp build with a GPU backend"), f.err());
    }
}
