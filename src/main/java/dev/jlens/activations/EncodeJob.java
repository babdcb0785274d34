package dev.jlens.activations;

import dev.jlens.api.EncoderKind;

import dev.jlens.util.Json;
import dev.jlens.util.Progress;
import dev.jlens.util.RunFolder;

import dev.jlens.formats.FormatException;
import dev.jlens.formats.Npy;
import dev.jlens.formats.Tensor;
import dev.jlens.sae.ModelIdentity;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeConfig;
import dev.jlens.sae.SaeFit;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeMetrics;
import dev.jlens.sae.SparseCodes;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * `jlens encode`: SAE-encodes a captured activations.npy into sparse codes and reconstruction metrics.
 * Output {@code codes.npz}: scipy's own CSR layout ({@link #writeCodes}), so {@code scipy.sparse.load_npz} reads it and
 * numpy too: {@code data} float32 [nnz], {@code indices} int32 [nnz], {@code indptr} int32 [rows+1],
 * {@code shape} int64 [2] = (rows, d_sae), {@code format} b'csr'.
 * {@code metrics.json}: L0, MSE, FVU, reconstruction cosine over the non-BOS rows (BOS rows are known
 * from capture.json's bos_token_id and tokens.csv next to the activations), and what the SAE and the
 * capture are: the SAE's hook and model, the captured hook, the model's GGUF names and how they compare.
 *
 * <p>The SAE must read the captured hook: capture.json next to the activations gives the layer
 * ({@code blocks.L.hook_resid_post}), and an SAE whose hook names another layer or another hook kind is refused
 * (IllegalArgumentException naming both). A params.npz whose path names no layer takes {@code --hook-layer}, else
 * capture.json's layer; with neither (a bare encode of activations without capture.json) its hook stays unknown.
 * A model mismatch (SAE model_name vs the GGUF of capture.json's model) is a warning, recorded.
 */
public final class EncodeJob {
    private EncodeJob() {}

    /**
     * metrics.json (keys in snake_case, after {@code "format": "jlens-metrics/2"}). The last fields (after
     * decoder_row_norm_max) say what was encoded with what.
     *
     * @param saeHookName       the SAE's hook ({@code blocks.12.hook_resid_post}); null when unknown
     * @param saeHookLayerFrom  where its layer came from: {@code sae} (its path, config or registry entry),
     *                          {@code --hook-layer}, {@code capture.json}, or {@code unknown}
     * @param captureHookName   the captured hook per capture.json; null without capture.json
     * @param saeModelName      the SAE's model_name; null when unknown
     * @param model             the captured model's GGUF general.* names; null when capture.json or its model file is absent
     * @param modelMatch        {@link SaeFit.ModelMatch} of the two
     */
    public record Metrics(String sae, String encoder, long rows, long rowsExcludedAsBos, int dSae, double meanL0, double mse, double fvu,
                          double meanCosine, double decoderRowNormMin, double decoderRowNormMax, String saeArchitecture,
                          String saeHookName, String saeHookLayerFrom, String captureHookName, String saeModelName,
                          ModelIdentity model, String modelMatch) {}

    /** What capture.json next to the activations says; layer -1 and nulls without one. */
    record CaptureSide(int layer, String hookName, Path model) {
        static CaptureSide read(Path dir) throws IOException {
            Path info = dir.resolve("capture.json");
            if (!Files.isRegularFile(info)) return new CaptureSide(-1, null, null);
            var j = Json.readFileTree(info, Json.CAPTURE_FORMAT);
            if (j == null || !j.path("layer").canConvertToInt() || j.path("layer").asInt() < 0)
                throw new FormatException(info, "layer", "missing or not a layer number: " + (j == null ? null : j.get("layer")));
            int layer = j.get("layer").asInt();
            String model = j.path("model").isTextual() ? j.get("model").asText() : null;
            return new CaptureSide(layer, SaeFit.captureHookName(layer), model == null ? null : Path.of(model));
        }
    }

    public static Metrics run(String saeId, Path activations, Path outDir, EncoderKind encoderKind, Progress progress) throws IOException {
        return run(saeId, activations, outDir, encoderKind, -1, progress);
    }

    /** @param hookLayer the SAE's hook layer as the user states it (--hook-layer), -1 when not given */
    public static Metrics run(String saeId, Path activations, Path outDir, EncoderKind encoderKind, int hookLayer, Progress progress) throws IOException {
        java.util.Objects.requireNonNull(encoderKind, "encoderKind");
        InputFiles.requireRegularFile(activations, "activations"); // a folder gave "No such device"
        CaptureSide cap = CaptureSide.read(activations.toAbsolutePath().getParent());
        int hint = hookLayer >= 0 ? hookLayer : cap.layer();
        // checks first, from the configs alone: a mismatch must not cost a weight scan
        SaeConfig stated = Sae.config(saeId, -1);
        SaeConfig cfg = Sae.config(saeId, hint);
        if (hookLayer >= 0) SaeFit.requireCapturePoint(cfg, saeId, hookLayer);
        if (cap.layer() >= 0) SaeFit.requireCapturePoint(cfg, saeId, cap.layer());
        String from = stated.hookKnown() ? "sae" : hookLayer >= 0 ? "--hook-layer" : cap.layer() >= 0 ? "capture.json" : "unknown";
        ModelIdentity model = cap.model() != null && Files.isRegularFile(cap.model()) ? ModelIdentity.read(cap.model()) : null;
        SaeFit.ModelCheck check = SaeFit.checkModel(cfg, saeId, model);
        // the folder's lock before any work: a second run into it is exit 2 naming it (RunFolder)
        try (RunFolder folder = RunFolder.lock(outDir); Sae sae = Sae.load(saeId, hint); Arena arena = Arena.ofConfined()) {
            Tensor x = Npy.read(activations, arena);
            if (x.rank() != 2) throw new FormatException(activations, "shape", "expected [tokens, d_in], got rank " + x.rank());
            if (x.dtype() != dev.jlens.formats.DType.F32) throw new FormatException(activations, "descr", "expected float32 activations, got " + x.dtype());
            long rows = x.dim(0);
            int dIn = (int) x.dim(1);
            sae.validateFor(dIn);
            boolean[] bos = bosRows(activations.getParent(), rows);
            List<SparseCodes> parts = new ArrayList<>();
            int block = 256;
            try (SaeEncoder enc = sae.encoder(encoderKind)) {
                for (long r0 = 0; r0 < rows; r0 += block) {
                    int n = (int) Math.min(block, rows - r0);
                    parts.add(enc.encode(x.data().asSlice(r0 * dIn * 4, (long) n * dIn * 4), n));
                    progress.update("encode", r0 + n, rows);
                }
                SparseCodes codes = parts.isEmpty() ? SparseCodes.empty(sae.dSae()) : SparseCodes.merge(parts);
                SaeMetrics.Report rep = new SaeMetrics(sae).evaluate(x.data(), codes, bos);
                // codes.npz and metrics.json are staged and move in together, metrics.json last: complete or absent
                Path staging = folder.stage();
                Metrics m;
                try {
                    writeCodes(staging.resolve("codes.npz"), codes);
                    var norms = sae.decoderRowNorms();
                    long nBos = 0;
                    for (boolean b : bos) if (b) nBos++;
                    m = new Metrics(saeId, enc.kind(), rows, nBos, sae.dSae(), rep.summary().meanL0(), rep.summary().mse(),
                            rep.summary().fvu(), rep.summary().meanCosine(), norms.min(), norms.max(), sae.cfg().architecture(),
                            sae.cfg().hookName(), from, cap.hookName(), sae.cfg().modelName(), model, check.match().name());
                    Json.writeFile(staging.resolve("metrics.json"), Json.METRICS_FORMAT, m);
                    folder.commit(staging, "metrics.json");
                } catch (IOException | RuntimeException e) {
                    RunFolder.discard(staging);
                    throw e;
                }
                return m;
            }
        }
    }

    /**
     * codes.npz in scipy's own CSR layout, member for member what {@code scipy.sparse.save_npz(f, m, compressed=False)}
     * writes: {@code indices} int32 [nnz], {@code indptr} int32 [rows+1], {@code format} b'csr' (0-d {@code |S3}),
     * {@code shape} int64 [2], {@code data} float32 [nnz]. int32 indices are scipy's own choice while nnz, rows and
     * d_sae fit in 31 bits.
     */
    static void writeCodes(Path file, SparseCodes codes) throws IOException {
        int n = codes.nTokens();
        if (codes.nnz() > Integer.MAX_VALUE)
            throw new IllegalArgumentException(file + ": " + codes.nnz() + " non-zero codes exceed a CSR matrix with int32 indices; encode fewer rows per call");
        int nnz = (int) codes.nnz();
        int[] indptr = new int[n + 1];
        int[] idx = new int[nnz];
        float[] val = new float[nnz];
        int at = 0;
        for (int t = 0; t < n; t++) {
            int[] i = codes.indices(t);
            float[] v = codes.values(t);
            System.arraycopy(i, 0, idx, at, i.length);
            System.arraycopy(v, 0, val, at, v.length);
            at += i.length;
            indptr[t + 1] = at;
        }
        new dev.jlens.formats.CsrNpz(n, codes.dSae(), indptr, idx, val).write(file);
    }

    /**
     * Rows to exclude from statistics: the BOS rows, by position (row 0 of a prompt holding capture.json's BOS id; see
     * {@link TokenizedPrompts#isBosRow}); none when those files are absent.
     */
    static boolean[] bosRows(Path dir, long rows) throws IOException {
        boolean[] bos = new boolean[(int) rows];
        Path info = dir.resolve("capture.json");
        Path tokens = dir.resolve("tokens.csv");
        if (!Files.isRegularFile(info) || !Files.isRegularFile(tokens)) return bos;
        int bosId = CaptureJob.CaptureInfo.bosRowsToken(Json.readFileTree(info, Json.CAPTURE_FORMAT));
        if (bosId < 0) return bos;
        try (var lines = Files.lines(tokens)) {
            var it = lines.iterator();
            if (!it.hasNext()) throw new FormatException(tokens, "header", "empty file");
            it.next();
            int r = 0;
            while (it.hasNext()) {
                String line = it.next();
                String[] f = line.split(",", 4);
                if (f.length < 3) throw new FormatException(tokens, "line " + (r + 2), "expected prompt,position,token_id,text");
                if (r >= rows) throw new FormatException(tokens, "line " + (r + 2), "more rows than activations.npy has (" + rows + ")");
                bos[r] = TokenizedPrompts.isBosRow(Integer.parseInt(f[1]), Integer.parseInt(f[2]), bosId);
                r++;
            }
            if (r != rows) throw new FormatException(tokens, "rows", r + " rows, but activations.npy has " + rows);
        } catch (NumberFormatException e) {
            throw new FormatException(tokens, "token_id", "not an integer: " + e.getMessage());
        }
        return bos;
    }
}
