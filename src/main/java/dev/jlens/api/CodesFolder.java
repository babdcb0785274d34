package dev.jlens.api;

import dev.jlens.activations.EncodeJob;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A "codes folder": the sparse SAE codes of a {@link CaptureFolder}'s activations, written to disk. The folder holds
 * {@code codes.npz} (scipy's own CSR layout, read by {@code scipy.sparse.load_npz}: {@code data} float32 {@code [nnz]},
 * {@code indices} int32 {@code [nnz]}, {@code indptr} int32 {@code [rows+1]}, {@code shape} int64 {@code [2]} =
 * {@code (rows, d_sae)}, {@code format} {@code b'csr'}) and
 * {@code metrics.json} ({@link Metrics}'s fields and what the SAE and the capture are, in snake_case after
 * {@code "format": "jlens-metrics/2"}: {@code rows_excluded_as_bos}, {@code d_sae}, {@code mean_l0}...; docs/outputs.md).
 * BOS rows are encoded but excluded from the metrics; they are known from
 * {@code capture.json} and {@code tokens.csv} next to the activations.
 *
 * <p>Threads: {@link #write} loads its own SAE and encoder and may run on any thread.
 */
public final class CodesFolder {
    private CodesFolder() {}

    /**
     * Reconstruction metrics over the non-BOS rows (as in {@code metrics.json}).
     *
     * @param sae                the SAE id or path given
     * @param encoder            the encoder that ran ({@code vector}, {@code ggml}, {@code ggml-gpu}, {@code scalar})
     * @param rows               rows encoded, BOS included
     * @param rowsExcludedAsBos  BOS rows left out of the metrics
     * @param dSae               SAE width
     * @param meanL0             mean active features per row
     * @param mse                mean squared reconstruction error per element
     * @param fvu                fraction of variance unexplained
     * @param meanCosine         mean cosine between a row and its reconstruction
     * @param decoderRowNormMin  smallest decoder row L2 norm (1 for Gemma Scope)
     * @param decoderRowNormMax  largest decoder row L2 norm
     */
    public record Metrics(String sae, String encoder, long rows, long rowsExcludedAsBos, int dSae, double meanL0, double mse, double fvu,
                          double meanCosine, double decoderRowNormMin, double decoderRowNormMax) {}

    /**
     * Encodes {@code activationsNpy} (float32 {@code [rows x d_in]}, usually a capture folder's) with the SAE
     * {@code sae} (params.npz, SAELens directory or registry id, as {@link SparseAutoencoder#load(String, EncoderKind)}) and
     * writes {@code outDir} (created if missing) with the {@code encoder} ({@link EncoderKind#parse} reads a spelling
     * such as {@code ggml-gpu}). {@code progress} (may be null) counts encoded rows. A malformed file or a
     * width mismatch throws an exception for which {@link Failures#isBadInput} is true.
     *
     * @param sae            the SAE: a Gemma Scope {@code params.npz}, a SAELens directory or a registry id; its
     *                       {@code d_in} must equal the activations' width
     * @param activationsNpy float32 {@code [rows x d_in]} {@code .npy}; when a {@code capture.json} is next to it, the
     *                       SAE's hook must be that capture's layer, and its {@code tokens.csv} marks the BOS rows
     * @param outDir         the codes folder, created when missing; its {@code codes.npz} and {@code metrics.json} are
     *                       replaced together, and a failed write leaves them as they were
     * @param encoder        which encoder computes the codes (not null); {@link EncoderKind#AUTO} picks one
     * @param progress       stage {@code "encode"}, one unit per row, or null for none
     * @return the metrics also written to {@code metrics.json}
     * @throws IOException when a file is missing, malformed (an {@link dev.jlens.errors.InvalidFileException}: bad
     *                     input) or cannot be read or written
     * @throws IllegalArgumentException (bad input) when the SAE's width or hook does not fit the activations or
     *                                  their capture, naming both, or another write holds {@code outDir}
     * @throws NullPointerException when {@code encoder} is null
     */
    public static Metrics write(String sae, Path activationsNpy, Path outDir, EncoderKind encoder, ProgressListener progress) throws IOException {
        return write(sae, activationsNpy, outDir, encoder, -1, progress);
    }

    /**
     * As {@link #write(String, Path, Path, EncoderKind, ProgressListener)}, with the SAE's hook layer stated by the caller
     * ({@code hookLayer} >= 0; -1: not given): a params.npz whose path names no layer takes it, and an SAE whose hook
     * names another layer, or a capture.json of another layer, is refused. Without it the layer of capture.json next
     * to the activations is used, and an SAE of another layer or hook kind is refused (bad input, naming both hooks).
     *
     * @param sae            as {@link #write(String, Path, Path, EncoderKind, ProgressListener)}
     * @param activationsNpy as {@link #write(String, Path, Path, EncoderKind, ProgressListener)}
     * @param outDir         as {@link #write(String, Path, Path, EncoderKind, ProgressListener)}
     * @param encoder        as {@link #write(String, Path, Path, EncoderKind, ProgressListener)}
     * @param hookLayer      the 0-based layer the SAE reads ({@code blocks.<hookLayer>.hook_resid_post}), or -1 when
     *                       not stated
     * @param progress       as {@link #write(String, Path, Path, EncoderKind, ProgressListener)}
     * @return the metrics also written to {@code metrics.json}
     * @throws IOException as {@link #write(String, Path, Path, EncoderKind, ProgressListener)}
     * @throws IllegalArgumentException as {@link #write(String, Path, Path, EncoderKind, ProgressListener)}, and when
     *                                  the SAE's hook or the capture's layer is not {@code hookLayer}
     * @throws NullPointerException when {@code encoder} is null
     */
    public static Metrics write(String sae, Path activationsNpy, Path outDir, EncoderKind encoder, int hookLayer, ProgressListener progress) throws IOException {
        EncodeJob.Metrics m = EncodeJob.run(sae, activationsNpy, outDir, encoder, hookLayer, Bridge.progress(progress));
        return new Metrics(m.sae(), m.encoder(), m.rows(), m.rowsExcludedAsBos(), m.dSae(), m.meanL0(), m.mse(), m.fvu(), m.meanCosine(),
                m.decoderRowNormMin(), m.decoderRowNormMax());
    }
}
