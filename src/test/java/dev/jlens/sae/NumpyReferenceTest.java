package dev.jlens.sae;

import static org.junit.jupiter.api.Assertions.*;

import dev.jlens.formats.Npy;
import dev.jlens.formats.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files written by numpy itself, encoded by jlens and compared with numpy's encode (issue 16, points 4 and 5):
 * a Gemma Scope params.npz saved with {@code np.savez} from transposed views (Fortran-order {@code w_enc},
 * {@code w_dec}, Gemma Scope's key names, thresholds <= 0 included) and SAELens 6 directories (cfg.json with
 * {@code "dtype": "torch.float32"} and a metadata block; safetensors written byte by byte) of the three
 * architectures. numpy computes SAELens' formulas in float64; the comparison rule is {@link SaeReference}'s, with
 * numpy's codes as a second expectation. Runs only where python3 with numpy is installed (skipped, with the reason,
 * elsewhere: SaeArchitecturesTest covers the same loaders with files written from Java).
 */
class NumpyReferenceTest {
    @TempDir static Path dir;
    static String skip;

    static final String SCRIPT = """
            import json, struct, sys, os
            import numpy as np
            out = sys.argv[1]
            rng = np.random.default_rng(16)
            d_in, d_sae, n = 37, 203, 11

            def weights(threshold):
                w_enc = (rng.standard_normal((d_in, d_sae)) / np.sqrt(d_in)).astype(np.float32)
                w_dec = rng.standard_normal((d_sae, d_in)).astype(np.float32)
                w_dec /= np.linalg.norm(w_dec, axis=1, keepdims=True)
                b_enc = (0.05 * rng.standard_normal(d_sae)).astype(np.float32)
                b_dec = (0.1 * rng.standard_normal(d_in)).astype(np.float32)
                thr = None
                if threshold:
                    thr = np.abs(0.3 * rng.standard_normal(d_sae)).astype(np.float32)
                    thr[::7] *= -1     # negative thresholds: SAELens' ReLU applies
                    thr[3] = 0.0
                return w_enc, w_dec, b_enc, b_dec, thr

            def pre(x, w_enc, b_enc, b_dec, apply_b_dec):
                xin = (x - b_dec).astype(np.float32) if apply_b_dec else x
                p = xin.astype(np.float64) @ w_enc.astype(np.float64) + b_enc
                mag = np.abs(xin.astype(np.float64)) @ np.abs(w_enc.astype(np.float64)) + np.abs(b_enc)
                return p, mag

            def save_safetensors(path, tensors):
                header, blobs, off = {}, [], 0
                for name, a in tensors.items():
                    b = np.ascontiguousarray(a, dtype='<f4').tobytes()
                    header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
                    blobs.append(b); off += len(b)
                header["__metadata__"] = {"format": "pt"}
                h = json.dumps(header).encode()
                h += b' ' * ((8 - len(h) % 8) % 8)
                with open(path, 'wb') as f:
                    f.write(struct.pack('<Q', len(h)) + h + b''.join(blobs))

            x = rng.standard_normal((n, d_in)).astype(np.float32)
            np.save(os.path.join(out, 'x.npy'), x)

            # Gemma Scope: np.savez of transposed views -> fortran_order True; w_* keys as in the hub files
            w_enc, w_dec, b_enc, b_dec, thr = weights(True)
            g = os.path.join(out, 'gemma-scope-2b-pt-res', 'layer_12', 'width_x')
            os.makedirs(g)
            w_enc_t, w_dec_t = np.ascontiguousarray(w_enc.T), np.ascontiguousarray(w_dec.T)
            assert w_enc_t.T.flags.f_contiguous and not w_enc_t.T.flags.c_contiguous
            np.savez(os.path.join(g, 'params.npz'), w_enc=w_enc_t.T, w_dec=w_dec_t.T, b_enc=b_enc, b_dec=b_dec, threshold=thr)
            p, mag = pre(x, w_enc, b_enc, b_dec, False)
            codes = np.maximum(p, 0) * (p > thr)          # jumprelu_sae.py: ReLU(pre) * (pre > threshold)
            np.save(os.path.join(out, 'gs_pre.npy'), p.astype(np.float32)); np.save(os.path.join(out, 'gs_mag.npy'), mag.astype(np.float32))
            np.save(os.path.join(out, 'gs_codes.npy'), codes.astype(np.float32)); np.save(os.path.join(out, 'gs_thr.npy'), thr)

            for arch, k in (('jumprelu', None), ('standard', None), ('topk', 9)):
                w_enc, w_dec, b_enc, b_dec, thr = weights(arch == 'jumprelu')
                d = os.path.join(out, 'saelens-' + arch)
                os.makedirs(d)
                t = {'W_enc': w_enc, 'W_dec': w_dec, 'b_enc': b_enc, 'b_dec': b_dec}
                if thr is not None: t['threshold'] = thr
                save_safetensors(os.path.join(d, 'sae_weights.safetensors'), t)
                cfg = {'architecture': arch, 'd_in': d_in, 'd_sae': d_sae, 'dtype': 'torch.float32', 'device': 'cpu',
                       'apply_b_dec_to_input': True, 'normalize_activations': 'none', 'reshape_activations': 'none',
                       'metadata': {'sae_lens_version': '6.5.1', 'model_name': 'gemma-2-2b', 'hook_name': 'blocks.12.hook_resid_post',
                                    'hook_head_index': None, 'context_size': 1024, 'neuronpedia_id': None}}
                if k: cfg.update(k=k, rescale_acts_by_decoder_norm=False)
                json.dump(cfg, open(os.path.join(d, 'cfg.json'), 'w'))
                p, mag = pre(x, w_enc, b_enc, b_dec, True)
                if arch == 'jumprelu': codes = np.maximum(p, 0) * (p > thr)
                elif arch == 'standard': codes = np.maximum(p, 0)
                else:                                     # topk_sae.py: topk, then ReLU, scattered
                    codes = np.zeros_like(p)
                    top = np.argsort(-p, axis=1, kind='stable')[:, :k]
                    np.put_along_axis(codes, top, np.maximum(np.take_along_axis(p, top, axis=1), 0), axis=1)
                    np.save(os.path.join(out, arch + '_k.npy'), np.array([k], dtype=np.float32))
                np.save(os.path.join(out, arch + '_pre.npy'), p.astype(np.float32)); np.save(os.path.join(out, arch + '_mag.npy'), mag.astype(np.float32))
                np.save(os.path.join(out, arch + '_codes.npy'), codes.astype(np.float32))
                if thr is not None: np.save(os.path.join(out, arch + '_thr.npy'), thr)
            """;

    @BeforeAll
    static void generate() throws Exception {
        Path script = dir.resolve("make.py");
        Files.writeString(script, SCRIPT);
        Process p;
        try {
            p = new ProcessBuilder("python3", script.toString(), dir.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            skip = "python3 is not installed (" + e.getMessage() + ")";
            return;
        }
        String log = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS)) { p.destroyForcibly(); throw new AssertionError("python3 did not finish: " + log); }
        if (p.exitValue() != 0 && log.contains("No module named 'numpy'")) { skip = "python3 has no numpy"; return; }
        assertEquals(0, p.exitValue(), "the reference script failed:\n" + log);
    }

    static float[][] matrix(Path npy) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Npy.read(npy, a);
            int rows = (int) t.dim(0), cols = (int) t.dim(1);
            float[][] m = new float[rows][cols];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) m[r][c] = t.get((long) r * cols + c);
            return m;
        }
    }

    static float[] vector(Path npy) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            return Npy.read(npy, a).toFloatArray();
        }
    }

    /** Encodes x with the SAE at {@code sae} (scalar and vector) and compares with numpy's {@code prefix}_*.npy. */
    static void compare(String sae, String prefix, String arch) throws IOException {
        Assumptions.assumeTrue(skip == null, () -> "skipped: " + skip + "; SaeArchitecturesTest covers these loaders with Java-written files");
        float[][] x = matrix(dir.resolve("x.npy"));
        int n = x.length, dIn = x[0].length;
        float[] flat = new float[n * dIn];
        for (int t = 0; t < n; t++) System.arraycopy(x[t], 0, flat, t * dIn, dIn);
        float[][] pre = matrix(dir.resolve(prefix + "_pre.npy")), mag = matrix(dir.resolve(prefix + "_mag.npy"));
        float[][] codes = matrix(dir.resolve(prefix + "_codes.npy"));
        double[][] p = new double[n][], tol = new double[n][];
        for (int t = 0; t < n; t++) {
            p[t] = new double[pre[t].length];
            tol[t] = new double[pre[t].length];
            // numpy's f64 pre-activation stored in f32: one more rounding of 2^-24 relative
            for (int f = 0; f < p[t].length; f++) { p[t][f] = pre[t][f]; tol[t][f] = (dIn + 4) * 0x1p-24 * mag[t][f]; }
        }
        float[] thr = Files.exists(dir.resolve(prefix + "_thr.npy")) ? vector(dir.resolve(prefix + "_thr.npy")) : null;
        int k = Files.exists(dir.resolve(prefix + "_k.npy")) ? (int) vector(dir.resolve(prefix + "_k.npy"))[0] : 0;
        try (Sae s = Sae.load(sae)) {
            assertEquals(arch, s.cfg().architecture());
            for (String kind : new String[] {"scalar", "vector"}) {
                try (SaeEncoder e = SaeEncoders.create(s, kind, new EncoderOptions(2, 64, 4))) {
                    SparseCodes c = e.encode(MemorySegment.ofArray(flat), n);
                    int[] st = SaeReference.compare(c, p, tol, arch, thr, k, codes);
                    System.out.printf("numpy %s (%s, %s): %d decisions equal to numpy's, %d within the rounding band%n", prefix, arch, kind, st[0], st[1]);
                    assertTrue(st[0] > 0.95 * n * s.dSae(), "compared only " + st[0]);
                }
            }
        }
    }

    @Test
    void gemmaScopeNpzSavedFromTransposedViewsWithWKeysEncodesAsNumpy() throws IOException {
        Assumptions.assumeTrue(skip == null, () -> "skipped: " + skip);
        Path npz = dir.resolve("gemma-scope-2b-pt-res/layer_12/width_x/params.npz");
        try (Sae s = Sae.load(npz.toString())) {
            assertTrue(s.wEncTransposed(), "numpy wrote w_enc in Fortran order");
            assertEquals("blocks.12.hook_resid_post", s.cfg().hookName());
            assertEquals("gemma-2-2b", s.cfg().modelName());
        }
        compare(npz.toString(), "gs", "jumprelu");
    }

    @Test
    void saeLensJumpReluDirWithTorchFloat32EncodesAsNumpy() throws IOException {
        compare(dir.resolve("saelens-jumprelu").toString(), "jumprelu", "jumprelu");
    }

    @Test
    void saeLensStandardDirEncodesAsNumpy() throws IOException {
        compare(dir.resolve("saelens-standard").toString(), "standard", "standard");
    }

    @Test
    void saeLensTopkDirEncodesAsNumpy() throws IOException {
        compare(dir.resolve("saelens-topk").toString(), "topk", "topk");
    }
}
