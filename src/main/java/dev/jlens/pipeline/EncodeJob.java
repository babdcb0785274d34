package dev.jlens.pipeline;

import dev.jlens.formats.FormatException;
import dev.jlens.formats.Npy;
import dev.jlens.formats.NpzWriter;
import dev.jlens.formats.Tensor;
import dev.jlens.sae.EncoderOptions;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeEncoders;
import dev.jlens.sae.SaeMetrics;
import dev.jlens.sae.SparseCodes;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * `jlens encode`: SAE-encodes a captured activations.npy into sparse codes and reconstruction metrics.
 * Output {@code codes.npz} (CSR, scipy-compatible): {@code indices} int32 [nnz], {@code values}
 * float32 [nnz], {@code offsets} int64 [rows+1], {@code shape} int64 [2] = (rows, d_sae):
 * {@code scipy.sparse.csr_matrix((z['values'], z['indices'], z['offsets']), shape=tuple(z['shape']))}.
 * {@code metrics.json}: L0, MSE, FVU, reconstruction cosine over the non-BOS rows (BOS rows are known
 * from capture.json's bos_token_id and tokens.csv next to the activations).
 */
public final class EncodeJob {
    private EncodeJob() {}

    public record Metrics(String sae, String encoder, long rows, long rowsExcludedAsBos, int dSae, double meanL0, double mse, double fvu,
                          double meanCosine, double decoderRowNormMin, double decoderRowNormMax) {}

    public static Metrics run(String saeId, Path activations, Path outDir, String encoderKind, Progress progress) throws IOException {
        try (Sae sae = Sae.load(saeId); Arena arena = Arena.ofConfined()) {
            Tensor x = Npy.read(activations, arena);
            if (x.rank() != 2) throw new FormatException(activations, "shape", "expected [tokens, d_in], got rank " + x.rank());
            if (x.dtype() != dev.jlens.formats.DType.F32) throw new FormatException(activations, "descr", "expected float32 activations, got " + x.dtype());
            long rows = x.dim(0);
            int dIn = (int) x.dim(1);
            sae.validateFor(dIn);
            boolean[] bos = bosRows(activations.getParent(), rows);
            List<SparseCodes> parts = new ArrayList<>();
            int block = 256;
            try (SaeEncoder enc = SaeEncoders.create(sae, encoderKind, EncoderOptions.defaults())) {
                for (long r0 = 0; r0 < rows; r0 += block) {
                    int n = (int) Math.min(block, rows - r0);
                    parts.add(enc.encode(x.data().asSlice(r0 * dIn * 4, (long) n * dIn * 4), n));
                    progress.update("encode", r0 + n, rows);
                }
                SparseCodes codes = parts.isEmpty() ? SparseCodes.empty(sae.dSae()) : SparseCodes.merge(parts);
                SaeMetrics.Report rep = new SaeMetrics(sae).evaluate(x.data(), codes, bos);
                Files.createDirectories(outDir);
                writeCodes(outDir.resolve("codes.npz"), codes);
                var norms = sae.decoderRowNorms();
                long nBos = 0;
                for (boolean b : bos) if (b) nBos++;
                Metrics m = new Metrics(saeId, enc.kind(), rows, nBos, sae.dSae(), rep.summary().meanL0(), rep.summary().mse(),
                        rep.summary().fvu(), rep.summary().meanCosine(), norms.min(), norms.max());
                Json.write(outDir.resolve("metrics.json"), m);
                return m;
            }
        }
    }

    static void writeCodes(Path file, SparseCodes codes) throws IOException {
        int n = codes.nTokens();
        long[] offsets = new long[n + 1];
        int nnz = (int) codes.nnz();
        int[] idx = new int[nnz];
        float[] val = new float[nnz];
        int at = 0;
        for (int t = 0; t < n; t++) {
            int[] i = codes.indices(t);
            float[] v = codes.values(t);
            System.arraycopy(i, 0, idx, at, i.length);
            System.arraycopy(v, 0, val, at, v.length);
            at += i.length;
            offsets[t + 1] = at;
        }
        Map<String, NpzWriter.Member> m = new LinkedHashMap<>();
        m.put("indices", NpzWriter.Member.ints(idx));
        m.put("values", NpzWriter.Member.floats(val));
        m.put("offsets", NpzWriter.Member.longs(offsets));
        m.put("shape", NpzWriter.Member.longs(new long[] {n, codes.dSae()}));
        NpzWriter.writeMembers(file, m);
    }

    /** Rows to exclude from statistics: BOS by token id (capture.json + tokens.csv); none when those files are absent. */
    static boolean[] bosRows(Path dir, long rows) throws IOException {
        boolean[] bos = new boolean[(int) rows];
        Path info = dir.resolve("capture.json");
        Path tokens = dir.resolve("tokens.csv");
        if (!Files.isRegularFile(info) || !Files.isRegularFile(tokens)) return bos;
        int bosId = Json.MAPPER.readTree(info.toFile()).path("bosTokenId").asInt(-1);
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
                bos[r] = Integer.parseInt(f[2]) == bosId;
                r++;
            }
            if (r != rows) throw new FormatException(tokens, "rows", r + " rows, but activations.npy has " + rows);
        } catch (NumberFormatException e) {
            throw new FormatException(tokens, "token_id", "not an integer: " + e.getMessage());
        }
        return bos;
    }
}
