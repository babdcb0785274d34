package dev.jlens.api;

import dev.jlens.formats.DType;
import dev.jlens.formats.Npy;
import dev.jlens.formats.NpyWriter;
import dev.jlens.formats.Npz;
import dev.jlens.formats.NpzFile;
import dev.jlens.formats.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link SparseAutoencoder#decode}: SAELens' {@code decode}, {@code codes @ W_dec + b_dec}, checked against a reference
 * computed here in double precision straight from the params.npz (the dense matrix product numpy would do), and, where
 * python3 with numpy is installed, against numpy itself (skipped with the reason otherwise). The codes are real: a
 * capture of the toy model's layer 12, encoded by the SAE.
 */
class DecodeApiTest {
    @TempDir Path dir;

    /** codes (dense [rows x d_sae]) @ W_dec + b_dec in double, from the npz as written. */
    static double[][] reference(Path npz, float[][] dense) throws IOException {
        try (NpzFile f = Npz.open(npz)) {
            Tensor w = f.get("W_dec"), b = f.get("b_dec");
            int dSae = (int) w.dim(0), dIn = (int) w.dim(1);
            double[][] out = new double[dense.length][dIn];
            for (int r = 0; r < dense.length; r++)
                for (int c = 0; c < dIn; c++) {
                    double s = b.get(c);
                    for (int k = 0; k < dSae; k++) s += (double) dense[r][k] * w.get((long) k * dIn + c);
                    out[r][c] = s;
                }
            return out;
        }
    }

    static float[][] dense(FeatureActivations f) {
        float[][] d = new float[f.rows()][f.width()];
        for (int r = 0; r < f.rows(); r++) {
            int[] idx = f.features(r);
            float[] v = f.values(r);
            for (int i = 0; i < idx.length; i++) d[r][idx[i]] = v[i];
        }
        return d;
    }

    static void assertClose(double[][] want, float[][] got, String what) {
        assertEquals(want.length, got.length, what + ": rows");
        double worst = 0;
        for (int r = 0; r < want.length; r++) {
            assertEquals(want[r].length, got[r].length, what + ": row " + r + " width");
            for (int c = 0; c < want[r].length; c++) {
                double err = Math.abs(want[r][c] - got[r][c]) / (1 + Math.abs(want[r][c]));
                worst = Math.max(worst, err);
                assertTrue(err <= 1e-5, what + ": row " + r + " column " + c + ": " + got[r][c] + " vs " + want[r][c]);
            }
        }
        System.out.println("[decode] " + what + ": worst relative error " + worst);
    }

    @Test
    void decodeIsCodesTimesWDecPlusBDecOnRealCodes() throws Exception {
        Path model = dir.resolve("tiny.gguf");
        Toys.writeModel(model, "tiny", "f32", 3);
        Path npz = dir.resolve("sae/layer_12/width_256/params.npz");
        new Toys.RandomSae(64, 256, 11, 24).writeGemmaScopeNpz(npz);
        float[][] got;
        float[][] codes;
        try (LensModel m = LensModel.load(model);
             LensSession s = m.newSession(128, 1);
             LayerActivations x = s.capture(List.of("The capital of France is Paris.", "Cheese and wine."), 12);
             SparseAutoencoder sae = SparseAutoencoder.load(npz.toString(), EncoderKind.SCALAR)) {
            FeatureActivations f = sae.encode(x);
            codes = dense(f);
            int active = 0;
            for (float[] row : codes) for (float v : row) if (v != 0) active++;
            assertTrue(active > f.rows(), "the codes are not trivially empty: " + active + " active in " + f.rows() + " rows");
            got = sae.decode(f);
            assertEquals(x.rows(), got.length);
            // one row through the sparse entry point, features in any order and one repeated (adds up)
            int[] idx = f.features(1);
            float[] val = f.values(1);
            assertTrue(idx.length >= 2, "row 1 has " + idx.length + " active features");
            int n = idx.length;
            int[] shuffled = new int[n + 1];
            float[] vals = new float[n + 1];
            for (int i = 0; i < n; i++) { shuffled[i] = idx[n - 1 - i]; vals[i] = val[n - 1 - i]; }
            shuffled[n] = idx[0];
            vals[n] = 0.5f;
            float[][] one = {sae.decode(shuffled, vals)};
            float[][] denseOne = {codes[1].clone()};
            denseOne[0][idx[0]] += 0.5f;
            assertClose(reference(npz, denseOne), one, "sparse entry point");
            // the bias alone for an all-zero row
            float[] bias = sae.decode(new int[0], new float[0]);
            assertClose(reference(npz, new float[][] {new float[256]}), new float[][] {bias}, "no active feature");

            assertThrows(IllegalArgumentException.class, () -> sae.decode(new int[] {256}, new float[] {1}));
            assertThrows(IllegalArgumentException.class, () -> sae.decode(new int[] {1, 2}, new float[] {1}));
            try (SparseAutoencoder wide = SparseAutoencoder.load(writeOther(), EncoderKind.SCALAR)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> wide.decode(f));
                assertTrue(e.getMessage().contains("width 256") && e.getMessage().contains("d_sae 512"), e.getMessage());
            }
        }
        assertClose(reference(npz, codes), got, "decode(encode(capture))");
        numpyCheck(npz, codes, got);
    }

    private String writeOther() throws IOException {
        Path other = dir.resolve("other/layer_12/width_512/params.npz");
        new Toys.RandomSae(64, 512, 12, 24).writeGemmaScopeNpz(other);
        return other.toString();
    }

    /** numpy's {@code codes @ W_dec + b_dec} (float32, as SAELens on CPU) where python3 with numpy exists. */
    private void numpyCheck(Path npz, float[][] codes, float[][] got) throws Exception {
        int rows = codes.length, dSae = codes[0].length;
        float[] flat = new float[rows * dSae];
        for (int r = 0; r < rows; r++) System.arraycopy(codes[r], 0, flat, r * dSae, dSae);
        Path in = dir.resolve("codes.npy"), out = dir.resolve("decoded.npy"), script = dir.resolve("decode.py");
        NpyWriter.write(in, DType.F32, new long[] {rows, dSae}, MemorySegment.ofArray(flat));
        Files.writeString(script, """
                import sys, numpy as np
                p = np.load(sys.argv[1]); c = np.load(sys.argv[2])
                np.save(sys.argv[3], (c @ p['W_dec'] + p['b_dec']).astype(np.float32))
                """);
        Process p;
        try {
            p = new ProcessBuilder("python3", script.toString(), npz.toString(), in.toString(), out.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            System.out.println("[decode] numpy check skipped: python3 is not installed (" + e.getMessage() + ")");
            return;
        }
        String log = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python3 did not finish: " + log);
        if (p.exitValue() != 0 && log.contains("No module named 'numpy'")) {
            System.out.println("[decode] numpy check skipped: python3 has no numpy");
            return;
        }
        assertEquals(0, p.exitValue(), log);
        double[][] want;
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Npy.read(out, a);
            assertArrayEquals(new long[] {rows, got[0].length}, t.shape());
            want = new double[rows][got[0].length];
            for (int r = 0; r < rows; r++) for (int c = 0; c < want[r].length; c++) want[r][c] = t.get((long) r * want[r].length + c);
        }
        assertClose(want, got, "numpy");
    }
}
