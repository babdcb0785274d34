package dev.jlens.activations;

import dev.jlens.util.FileHashes;
import dev.jlens.util.Json;
import dev.jlens.util.RunFolder;
import dev.jlens.util.Progress;

import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.NpyWriter;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.llama.Vocab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * `jlens capture`: tokenizes prompts, captures the residual stream after one layer, and writes
 * {@code activations.npy} (float32 [total_tokens, n_embd], rows in prompt order, BOS rows included)
 * and {@code tokens.csv} (prompt,position,token_id,text; control characters in a token's text escaped as {@link TokensCsv}
 * says). Activations are streamed batch by batch
 * into the .npy, so memory is bounded by one batch; both files appear atomically at the end.
 */
public final class CaptureJob {
    private CaptureJob() {}

    public record Result(Path activations, Path tokens, long rows, int nEmbd, int layer, double seconds) {}

    /**
     * {@code capture.json} (keys in snake_case, after {@code "format": "jlens-capture/2"}): what the activations are, so later steps need not guess (e.g. which rows are BOS), and the
     * numerics they were computed with (K/V cache type, flash attention, the model file's weight types).
     *
     * @param model        the model file's absolute path (normalized), so the folder says which file from anywhere
     * @param modelSha256  the SHA-256 of the model file's bytes
     * @param bosTokenId   the vocabulary's BOS id
     * @param bosPrepended whether the model prepends BOS: then row 0 of every prompt is BOS (and only that row; a
     *                     capture.json without the key reads as true)
     */
    public record CaptureInfo(String model, String modelSha256, String architecture, int layer, String hookName, int nEmbd, long rows,
                              int prompts, int bosTokenId, boolean bosPrepended, String llamaCppCommit, Numerics numerics) {

        /** The BOS id that marks BOS rows (position 0) in a folder with this capture.json: -1 when none was prepended. */
        public static int bosRowsToken(com.fasterxml.jackson.databind.JsonNode captureJson) {
            int bos = captureJson.path("bos_token_id").asInt(-1);
            return captureJson.path("bos_prepended").asBoolean(true) ? bos : -1;
        }
    }

    public static Result run(Model model, List<String> prompts, int layer, Path outDir, Context.Params ctxParams, Progress progress)
            throws IOException {
        // every check that needs no decode happens before the output folder exists
        TokenizedPrompts tokens = CaptureSource.tokenize(model.vocab(), prompts, ctxParams.nCtx());
        long total = tokens.totalTokens();
        if (total > Integer.MAX_VALUE) throw new IllegalArgumentException("too many tokens: " + total);
        // the folder is locked (a second capture into it exits 2) and the files are staged and moved in together,
        // capture.json last: a failed or killed capture leaves the previous capture or none (and no folder of its own)
        try (RunFolder folder = RunFolder.lock(outDir)) {
            Path staging = folder.stage();
            try {
                Result r = write(model, tokens, layer, staging, ctxParams, progress);
                folder.commit(staging, "capture.json");
                return new Result(outDir.resolve(r.activations().getFileName().toString()), outDir.resolve(r.tokens().getFileName().toString()),
                        r.rows(), r.nEmbd(), r.layer(), r.seconds());
            } finally {
                RunFolder.discard(staging);
            }
        }
    }

    private static Result write(Model model, TokenizedPrompts tokens, int layer, Path outDir, Context.Params ctxParams, Progress progress)
            throws IOException {
        Vocab vocab = model.vocab();
        long total = tokens.totalTokens();
        Files.createDirectories(outDir);
        Path npy = outDir.resolve("activations.npy");
        Path csv = outDir.resolve("tokens.csv");
        int nEmbd = model.nEmbd();
        long t0 = System.nanoTime();
        StringBuilder csvText = new StringBuilder(TokensCsv.HEADER + "\n");
        long[] done = {0};
        long totalRows = total;
        try (Context ctx = model.newContext(ctxParams);
             NpyWriter out = NpyWriter.open(npy, new long[]{total, nEmbd})) {
            new CaptureSource(ctx, layer).captureEach(tokens.tokens(), batch -> {
                try (batch) {
                    out.writeRows(batch.data());
                    for (int r = 0; r < batch.rows(); r++) {
                        csvText.append(TokensCsv.row(batch.promptOf(r), batch.positionOf(r), batch.tokenOf(r), vocab.piece(batch.tokenOf(r))));
                    }
                    done[0] += batch.rows();
                    progress.update("capture", done[0], totalRows);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            AtomicFiles.writeStream(csv, os -> os.write(csvText.toString().getBytes(StandardCharsets.UTF_8)));
            Path modelFile = model.path().toAbsolutePath().normalize();
            Json.writeFile(outDir.resolve("capture.json"), Json.CAPTURE_FORMAT, new CaptureInfo(modelFile.toString(), FileHashes.sha256(modelFile), model.architecture(),
                    layer, "blocks." + layer + ".hook_resid_post", nEmbd, total, tokens.size(), vocab.bos(), tokens.bosTokenId() >= 0,
                    dev.jlens.llama.NativeLibrary.load().ggmlCommit(), Numerics.of(ctxParams, model.path())));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return new Result(npy, csv, total, nEmbd, layer, (System.nanoTime() - t0) / 1e9);
    }
}
