package dev.jlens.api;

import dev.jlens.llama.Quantizer;
import dev.jlens.study.quant.QuantImpactStudy;
import dev.jlens.toy.ToyDefault;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * What quantised weights do to the France study (ggml rounds every matmul input to the weight's precision, so the file
 * type is also the activations' precision): the planted toy's F32 GGUF is written as F16, BF16, Q8_0, Q4_0 and Q4_K_M
 * with llama.cpp's own quantizer, and each file is compared with the F32 one: per-row error of the layer-12
 * activations, Jaccard of the active SAE feature sets, Spearman of the top fine features' selectivities, and whether
 * the France run's verdict, matched pairs and facet split change. Writes {@code quant-impact.json} and
 * {@code quant-impact.md} (and, when asked, a document) into the output folder. Runs on the calling thread; two runs
 * writing the same folder at the same time are not supported.
 */
public final class QuantImpact {
    private QuantImpact() {}

    /** The file types compared with F32 by default: f16, bf16, q8_0, q4_0, q4_k_m. */
    public static final List<String> DEFAULT_TYPES = List.of("f16", "bf16", "q8_0", "q4_0", "q4_k_m");

    /**
     * One file type against F32.
     *
     * @param type           {@code f32}, {@code f16}, {@code bf16}, {@code q8_0}, {@code q4_0} or {@code q4_k_m}
     * @param fileBytes      size of the GGUF
     * @param tensorTypes    ggml types of its tensors with counts, e.g. {@code Q4_0 x126, F32 x57, Q6_K x1}
     * @param rowErrorMax    largest relative L2 error of a non-BOS layer-12 row against F32
     * @param rowErrorMean   mean of that error over the rows
     * @param jaccardCoarse  mean per-row Jaccard index of the coarse SAE's active sets against F32
     * @param jaccardFine    the same for the fine SAE
     * @param spearmanTop    Spearman of the selectivities of the F32 run's top fine features (NaN when undefined)
     * @param topOverlap     how many of the F32 run's top fine features are in this run's top list
     * @param topCount       how many top features that is
     * @param decision       this file's France verdict ({@code GO} or {@code NO_GO})
     * @param matches        its matched fine features
     * @param verdictSame    decision, anchor and matches equal the F32 run's
     * @param pairsAdded     MATCH pairs the F32 run does not have
     * @param pairsRemoved   F32 MATCH pairs this run lacks
     * @param facetSplitSame the facet split rows equal the F32 run's
     */
    public record Row(String type, long fileBytes, String tensorTypes, double rowErrorMax, double rowErrorMean, double jaccardCoarse,
                      double jaccardFine, double spearmanTop, int topOverlap, int topCount, String decision, int matches,
                      boolean verdictSame, int pairsAdded, int pairsRemoved, boolean facetSplitSame) {}

    /**
     * What a run produced.
     *
     * @param rows     F32 first, then the other types in the order asked for; unmodifiable
     * @param json     {@code quant-impact.json}
     * @param markdown {@code quant-impact.md}
     * @param doc      the document written, or null
     */
    public record Outcome(List<Row> rows, Path json, Path markdown, Path doc) {
        /** Copies the rows. */
        public Outcome {
            rows = List.copyOf(rows);
        }
    }

    /**
     * Runs the comparison on the planted France toy (generated on first use). For each type the quantised model goes to
     * {@code outDir/models/model-<type>.gguf} and its France run to {@code outDir/runs/<type>/}; the table is written
     * last. A file of an earlier run at the same place is replaced.
     *
     * @param types    file types to compare with F32, in table order, case-insensitive, none repeated, at least one
     *                 (see {@link #DEFAULT_TYPES}; {@code f32} itself is always the first row and is not quantised)
     * @param outDir   the output folder, created when missing: the table, {@code models/}, {@code runs/} and the
     *                 France runs' {@code cache/} go there
     * @param docFile  also write the table as a document there (e.g. {@code docs/quant-impact.md}), or null for none
     * @param command  the command line quoted in the document, or null for {@code jlens quant-impact}
     * @param settings the France runs' settings; their threads also quantise and capture, and their cache folder is
     *                 replaced by {@code outDir/cache}
     * @param log      gets a line when the toy is generated, or null for none
     * @param progress stage {@code "quant-impact"}, one unit per file type (F32 included), or null for none
     * @return the rows and the files written
     * @throws IllegalArgumentException when a type is unknown or repeated, or {@code types} is empty (before any work)
     * @throws NullPointerException when {@code settings} or {@code outDir} is null
     * @throws IOException when the toy, a model, a run folder or the table cannot be written or read back
     */
    public static Outcome run(List<String> types, Path outDir, Path docFile, String command, Experiment.Settings settings,
                              PrintWriter log, ProgressListener progress) throws IOException {
        Objects.requireNonNull(settings, "settings");
        List<Quantizer.FileType> t = new ArrayList<>();
        for (String s : types) t.add(Quantizer.FileType.parse(s));
        Experiment.Settings runs = settings.toBuilder().cacheDir(outDir.resolve("cache")).build();
        ToyDefault.Files toy = ToyDefault.ensure(true, log);
        String description = "planted France toy, " + ToyDefault.variant(toy).name().toLowerCase(Locale.ROOT) + " variant";
        QuantImpactStudy.Report r = QuantImpactStudy.run(
                new QuantImpactStudy.Settings(t, outDir, docFile, command == null ? "jlens quant-impact" : command, settings.threads()),
                new QuantImpactStudy.Toy(toy.model(), toy.coarseId(), toy.fineId(), description),
                (model, coarse, fine, out) -> Experiment.run(model, coarse, fine, out, runs, null).resultsJson(), Bridge.progress(progress));
        List<Row> rows = r.rows().stream().map(x -> new Row(x.type(), x.fileBytes(), x.tensorTypes(), x.rowErrorMax(), x.rowErrorMean(),
                x.jaccardCoarse(), x.jaccardFine(), x.spearmanTop(), x.topOverlap(), x.topCount(), x.decision(), x.matches(), x.verdictSame(),
                x.pairsAdded(), x.pairsRemoved(), x.facetSplitSame())).toList();
        return new Outcome(rows, r.json(), r.markdown(), r.doc());
    }
}
