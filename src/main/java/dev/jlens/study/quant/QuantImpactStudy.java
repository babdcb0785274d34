package dev.jlens.study.quant;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.activations.CaptureSource;
import dev.jlens.activations.TokenizedPrompts;
import dev.jlens.analysis.PromptSet;
import dev.jlens.formats.GgmlType;
import dev.jlens.formats.GgufFile;
import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.Model;
import dev.jlens.llama.Quantizer;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeEncoders;
import dev.jlens.sae.SparseCodes;
import dev.jlens.util.Json;
import dev.jlens.util.Progress;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What quantised weights do to the France study (issue 16, point 2). ggml quantises a matmul's input to the weight's
 * "vec_dot" type: F16 weights multiply fp16 activations, BF16 bf16, Q8_0/Q4_0 8-bit blocks of 32 values, K-quants
 * 8-bit blocks of 256; only F32 weights keep the activations in f32. So the weight type is also the activations'
 * precision. This study writes the planted toy (an F32 GGUF) in each file type with llama.cpp's own
 * {@code llama_model_quantize} (the llama-quantize recipe, tied embedding and fallbacks included), then, for each:
 * captures the layer-{@value #LAYER} residual of the France and neutral prompts exactly as the study batches them
 * (activations.CaptureSource: f32 K/V cache, 2048-token batches of at most 64 prompts), encodes every non-BOS row with the coarse and the fine
 * SAE, runs the whole France study on the file, and compares everything with the F32 file: per-row relative L2 error
 * of the activations (max and mean over non-BOS rows), Jaccard of the active feature sets per token (mean over
 * non-BOS rows), Spearman of the selectivity of the F32 run's top fine features by selectivity (selectivity recomputed
 * from the same captures: per-prompt max over non-BOS tokens, mean over prompts, meanTarget / (meanTarget +
 * meanControl), as the study computes it), the overlap of the two top lists, and whether the verdict, the matched
 * pairs and the facet-split rows change.
 */
public final class QuantImpactStudy {
    public static final int LAYER = 12;
    private static final int CONTEXT = 2048, PROMPTS_PER_BATCH = 64;

    private QuantImpactStudy() {}

    /** Runs the France study on one model file into {@code outDir} and returns the results.json it wrote. */
    @FunctionalInterface
    public interface FranceRun {
        Path run(Path model, String coarseSae, String fineSae, Path outDir) throws IOException;
    }

    /**
     * The model and SAEs compared: an F32 GGUF (the reference) and the two SAEs as the France study takes them.
     *
     * @param description one line naming the toy, for the table
     */
    public record Toy(Path model, String coarseSae, String fineSae, String description) {
        public Toy {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(coarseSae, "coarseSae");
            Objects.requireNonNull(fineSae, "fineSae");
            Objects.requireNonNull(description, "description");
        }
    }

    /**
     * @param types   file types to compare with F32, in table order (F32 itself is always the first row)
     * @param outDir  where the quantised files ({@code models/}), the France runs ({@code runs/}), their cache and
     *                the table ({@code quant-impact.json}, {@code quant-impact.md}) go
     * @param docFile also write the table as a document there (e.g. docs/quant-impact.md); null for none
     * @param command the command line that produced the table, quoted in the document
     * @param threads CPU threads for quantising and capture
     */
    public record Settings(List<Quantizer.FileType> types, Path outDir, Path docFile, String command, int threads) {
        public Settings {
            types = List.copyOf(types);
            Objects.requireNonNull(outDir, "outDir");
            Objects.requireNonNull(command, "command");
            if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
            if (types.isEmpty()) throw new IllegalArgumentException("no file types to compare");
            if (new TreeSet<>(types).size() != types.size()) throw new IllegalArgumentException("file types repeat: " + types);
        }
    }

    /**
     * One file type against F32.
     *
     * @param type            {@code f32}, {@code f16}, ...
     * @param fileBytes       size of the GGUF
     * @param tensorTypes     ggml types of its tensors with counts, most frequent first (e.g. {@code Q4_0 x126, F32 x57, Q6_K x1})
     * @param rows            non-BOS rows compared
     * @param rowErrorMax     largest ||x - x_f32|| / ||x_f32|| over the rows
     * @param rowErrorMean    its mean
     * @param jaccardCoarse   mean over rows of the Jaccard index of the coarse SAE's active sets
     * @param jaccardFine     the same for the fine SAE
     * @param spearmanTop     Spearman of the selectivities of the F32 run's top fine features (by selectivity)
     * @param topCount        how many top features that is (the study's fine candidates)
     * @param topOverlap      how many of them are in this run's top list as well
     * @param decision        this run's verdict ({@code GO} / {@code NO_GO})
     * @param anchor          its anchor
     * @param matches         its matches
     * @param verdictSame     decision, anchor and matches equal the F32 run's
     * @param matchedPairs    MATCH pairs as {@code anchor-fine}, ascending
     * @param pairsAdded      MATCH pairs the F32 run does not have
     * @param pairsRemoved    F32 MATCH pairs this run lacks
     * @param facetSplitSame  the facet split rows (anchor, fine, facet) equal the F32 run's
     * @param selectivityCheck largest |recomputed - results.json| selectivity over this run's top list (the recomputation
     *                        agrees with the study)
     * @param resultsJson     the run's results.json, relative to the output folder
     */
    public record Row(String type, long fileBytes, String tensorTypes, int rows, double rowErrorMax, double rowErrorMean,
                      double jaccardCoarse, double jaccardFine, double spearmanTop, int topCount, int topOverlap, String decision,
                      int anchor, int matches, boolean verdictSame, List<String> matchedPairs, int pairsAdded, int pairsRemoved,
                      boolean facetSplitSame, double selectivityCheck, String resultsJson) {
        public Row {
            matchedPairs = List.copyOf(matchedPairs);
        }
    }

    /** The study's outcome: the toy, the layer, the prompt counts and one row per file type (F32 first). */
    public record Report(String toy, int layer, int targetPrompts, int controlPrompts, String llamaCppCommit, List<Row> rows,
                         Path json, Path markdown, Path doc) {
        public Report {
            rows = List.copyOf(rows);
        }
    }

    /** One file's capture: its non-BOS rows, their tokens, active sets and the fine SAE's per-feature selectivity. */
    private record Capture(float[][] rows, int[] tokens, int[][] coarse, int[][] fine, double[] fineSelectivity) {}

    public static Report run(Settings s, Toy toy, FranceRun france, Progress progress) throws IOException {
        Objects.requireNonNull(france, "france");
        progress = progress == null ? Progress.NONE : progress;
        Path out = s.outDir();
        Files.createDirectories(out.resolve("models"));
        PromptSet target = PromptSet.builtin("france"), control = PromptSet.builtin("neutral");
        List<String> prompts = new ArrayList<>();
        target.prompts().forEach(p -> prompts.add(p.text()));
        control.prompts().forEach(p -> prompts.add(p.text()));
        int nTarget = target.size();

        List<Quantizer.FileType> types = new ArrayList<>();
        types.add(Quantizer.FileType.F32);
        for (Quantizer.FileType t : s.types()) if (t != Quantizer.FileType.F32) types.add(t);

        List<Row> rows = new ArrayList<>();
        Capture ref = null;
        JsonNode refResults = null;
        String commit = null;
        int step = 0;
        try (Sae coarse = Sae.load(toy.coarseSae()); Sae fine = Sae.load(toy.fineSae());
             SaeEncoder coarseEnc = SaeEncoders.create(coarse, "auto"); SaeEncoder fineEnc = SaeEncoders.create(fine, "auto")) {
            for (Quantizer.FileType type : types) {
                progress.update("quant-impact", step++, types.size());
                Path model = type == Quantizer.FileType.F32 ? toy.model() : out.resolve("models").resolve("model-" + type.label() + ".gguf");
                if (type != Quantizer.FileType.F32) Quantizer.quantizeModel(toy.model(), model, type, s.threads());
                Capture c = capture(model, prompts, nTarget, coarseEnc, fineEnc, s.threads());
                Path runDir = out.resolve("runs").resolve(type.label());
                Path resultsJson = france.run(model, toy.coarseSae(), toy.fineSae(), runDir);
                JsonNode results = Json.MAPPER.readTree(resultsJson.toFile());
                if (commit == null) commit = results.path("config").path("llama_cpp_commit").asText(null);
                if (ref == null) {
                    ref = c;
                    refResults = results;
                }
                rows.add(compare(type, model, c, ref, results, refResults, out.relativize(resultsJson).toString()));
            }
        }
        progress.update("quant-impact", types.size(), types.size());
        Report r = new Report(toy.description(), LAYER, nTarget, control.size(), commit, rows, out.resolve("quant-impact.json"),
                out.resolve("quant-impact.md"), s.docFile());
        QuantImpactWriter.write(r, s.command());
        return r;
    }

    private static Capture capture(Path modelFile, List<String> prompts, int nTarget, SaeEncoder coarseEnc, SaeEncoder fineEnc,
                                   int threads) {
        int dSae = fineEnc.sae().dSae();
        double[] sumTarget = new double[dSae], sumControl = new double[dSae];
        List<float[]> rows = new ArrayList<>();
        List<Integer> tokens = new ArrayList<>();
        List<int[]> coarse = new ArrayList<>(), fine = new ArrayList<>();
        try (Model model = Model.load(modelFile)) {
            Context.Params params = Context.Params.defaults().withCtx(CONTEXT).withUbatch(512).withSeqMax(PROMPTS_PER_BATCH)
                    .withThreads(threads);
            int d = model.nEmbd();
            try (Context ctx = model.newContext(params)) {
                CaptureSource source = new CaptureSource(ctx, LAYER);
                TokenizedPrompts tok = source.tokenize(prompts);
                source.captureEach(tok.tokens(), a -> {
                    try (Activations acts = a) {
                        List<Integer> keep = new ArrayList<>();
                        for (int r = 0; r < acts.rows(); r++) if (!tok.isBosRow(acts.promptOf(r), acts.positionOf(r))) keep.add(r);
                        float[] x = new float[keep.size() * d];
                        for (int i = 0; i < keep.size(); i++) {
                            float[] row = acts.row(LAYER, keep.get(i));
                            System.arraycopy(row, 0, x, i * d, d);
                            rows.add(row);
                            tokens.add(acts.tokenOf(keep.get(i)));
                        }
                        SparseCodes cc = coarseEnc.encode(MemorySegment.ofArray(x), keep.size());
                        SparseCodes fc = fineEnc.encode(MemorySegment.ofArray(x), keep.size());
                        // per prompt, the max over its non-BOS tokens of each fine feature (0 when it never fires)
                        Map<Integer, float[]> maxByPrompt = new TreeMap<>();
                        for (int i = 0; i < keep.size(); i++) {
                            coarse.add(cc.indices(i));
                            int[] f = fc.indices(i);
                            float[] v = fc.values(i);
                            fine.add(f);
                            float[] m = maxByPrompt.computeIfAbsent(acts.promptOf(keep.get(i)), k -> new float[dSae]);
                            for (int j = 0; j < f.length; j++) m[f[j]] = Math.max(m[f[j]], v[j]);
                        }
                        maxByPrompt.forEach((prompt, m) -> {
                            double[] sum = prompt < nTarget ? sumTarget : sumControl;
                            for (int j = 0; j < dSae; j++) sum[j] += m[j];
                        });
                    }
                });
            }
        }
        int nControl = prompts.size() - nTarget;
        double[] selectivity = new double[dSae];
        for (int j = 0; j < dSae; j++) {
            double mt = sumTarget[j] / nTarget, mc = sumControl[j] / nControl;
            selectivity[j] = mt + mc == 0 ? 0 : mt / (mt + mc);
        }
        return new Capture(rows.toArray(float[][]::new), tokens.stream().mapToInt(Integer::intValue).toArray(),
                coarse.toArray(int[][]::new), fine.toArray(int[][]::new), selectivity);
    }

    private static Row compare(Quantizer.FileType type, Path model, Capture c, Capture ref, JsonNode results, JsonNode refResults,
                               String resultsJson) throws IOException {
        if (!Arrays.equals(c.tokens(), ref.tokens())) {
            throw new IllegalStateException(model + " tokenizes the prompts differently from the F32 file: rows cannot be compared");
        }
        int n = c.rows().length;
        double errMax = 0, errSum = 0, jc = 0, jf = 0;
        for (int i = 0; i < n; i++) {
            double e = QuantMetrics.relativeL2(c.rows()[i], ref.rows()[i]);
            errMax = Math.max(errMax, e);
            errSum += e;
            jc += QuantMetrics.jaccard(c.coarse()[i], ref.coarse()[i]);
            jf += QuantMetrics.jaccard(c.fine()[i], ref.fine()[i]);
        }
        List<Integer> refTop = topFeatures(refResults), top = topFeatures(results);
        double[] x = new double[refTop.size()], y = new double[refTop.size()];
        for (int i = 0; i < refTop.size(); i++) {
            x[i] = ref.fineSelectivity()[refTop.get(i)];
            y[i] = c.fineSelectivity()[refTop.get(i)];
        }
        int overlap = 0;
        for (int f : refTop) if (top.contains(f)) overlap++;
        double check = 0;
        for (JsonNode f : results.path("fine").path("top_by_selectivity")) {
            check = Math.max(check, Math.abs(c.fineSelectivity()[f.path("feature").asInt()] - f.path("selectivity").asDouble()));
        }
        JsonNode v = results.path("verdict"), rv = refResults.path("verdict");
        boolean verdictSame = v.path("decision").asText().equals(rv.path("decision").asText())
                && v.path("anchor").asInt() == rv.path("anchor").asInt() && v.path("matches").asInt() == rv.path("matches").asInt();
        TreeSet<String> pairs = matchedPairs(results), refPairs = matchedPairs(refResults);
        TreeSet<String> added = new TreeSet<>(pairs), removed = new TreeSet<>(refPairs);
        added.removeAll(refPairs);
        removed.removeAll(pairs);
        return new Row(type.label(), Files.size(model), tensorTypes(model), n, errMax, n == 0 ? 0 : errSum / n, n == 0 ? 1 : jc / n,
                n == 0 ? 1 : jf / n, QuantMetrics.spearman(x, y), refTop.size(), overlap, v.path("decision").asText(),
                v.path("anchor").asInt(), v.path("matches").asInt(), verdictSame, List.copyOf(pairs), added.size(), removed.size(),
                facetSplit(results).equals(facetSplit(refResults)), check, resultsJson);
    }

    private static List<Integer> topFeatures(JsonNode results) {
        List<Integer> out = new ArrayList<>();
        for (JsonNode f : results.path("fine").path("top_by_selectivity")) out.add(f.path("feature").asInt());
        return out;
    }

    private static TreeSet<String> matchedPairs(JsonNode results) {
        TreeSet<String> out = new TreeSet<>();
        for (JsonNode p : results.path("crossmap").path("pairs")) {
            if ("MATCH".equals(p.path("classification").asText())) out.add(p.path("anchor").asInt() + "-" + p.path("fine").asInt());
        }
        return out;
    }

    private static TreeSet<String> facetSplit(JsonNode results) {
        TreeSet<String> out = new TreeSet<>();
        for (JsonNode p : results.path("crossmap").path("facet_split")) {
            out.add(p.path("anchor").asInt() + "-" + p.path("fine").asInt() + "-" + p.path("facet").asText());
        }
        return out;
    }

    /** ggml types of the file's tensors with their counts, most frequent first, then by name. */
    static String tensorTypes(Path gguf) throws IOException {
        Map<GgmlType, Integer> count = new TreeMap<>();
        try (GgufFile f = GgufFile.open(gguf)) {
            for (GgufFile.TensorInfo t : f.tensors()) count.merge(t.type(), 1, Integer::sum);
        }
        List<Map.Entry<GgmlType, Integer>> e = new ArrayList<>(count.entrySet());
        e.sort((a, b) -> a.getValue().equals(b.getValue()) ? a.getKey().name().compareTo(b.getKey().name()) : b.getValue() - a.getValue());
        StringBuilder sb = new StringBuilder();
        for (var x : e) sb.append(sb.isEmpty() ? "" : ", ").append(x.getKey().name()).append(" x").append(x.getValue());
        return sb.toString();
    }
}
