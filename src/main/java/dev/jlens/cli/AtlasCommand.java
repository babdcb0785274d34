package dev.jlens.cli;

import dev.jlens.api.Atlas;
import dev.jlens.api.EncoderKind;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "atlas", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The feature atlas: what each SAE feature means, from its behaviour over a corpus (density, activation histogram,",
                "top and quantile-sampled contexts with per-token activations, logit lens). Writes features.jsonl, atlas.json,",
                "density.npy, max.npy and a browsable atlas.html per SAE. Checkpointed: rerun the same command to resume.",
                "With no --model/--sae/--corpus it runs on the embedded planted-concept toy model and a corpus of the shipped prompts."})
final class AtlasCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--model", paramLabel = "GGUF", description = "gemma2 GGUF (default: the toy model)") Path model;
    @Option(names = "--sae", paramLabel = "SAE", description = "params.npz, SAELens directory or registry id; repeat for several SAEs over the same activations (default: the toy's coarse and fine SAEs)") List<String> saes;
    @Option(names = "--corpus", paramLabel = "PATH", description = "text file, folder or glob (several separated by ':'); .gz files are read transparently (default: the toy corpus)") String corpus;
    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default: runs/atlas-toy for the toy, else runs/atlas)") Path out;
    @Option(names = "--layer", defaultValue = "12", description = "residual stream tap blocks.L.hook_resid_post; must match the SAEs") int layer;
    @Option(names = "--context", defaultValue = "128", description = "tokens per context, BOS included") int context;
    @Option(names = "--top", defaultValue = "20", description = "top-activating contexts kept per feature") int top;
    @Option(names = "--max-tokens", defaultValue = "0", description = "stop before the context that would take the total over this; 0 = whole corpus") long maxTokens;
    @Option(names = "--format", defaultValue = "auto", description = "auto (JSONL by suffix, else one document per line), lines, jsonl, whole-files") String format;
    @Option(names = "--whole-files", description = "one document per file (same as --format whole-files)") boolean wholeFiles;
    @Option(names = "--text-field", defaultValue = "text", description = "JSONL key holding the text") String textField;
    @Option(names = "--skip-bad", description = "skip and count bad documents (invalid UTF-8, binary files, bad JSON lines) instead of failing") boolean skipBad;
    @Option(names = "--threads", defaultValue = "0", description = "CPU threads for the model; 0 = all cores") int threads;
    @Option(names = "--encoder", defaultValue = "auto", converter = ExperimentOptions.EncoderConverter.class,
            description = "auto, vector, ggml or scalar") EncoderKind encoder;
    @Option(names = "--batch-tokens", defaultValue = "512", description = "tokens decoded together, at least --context; contexts are packed in order") int batchTokens;
    @Option(names = "--shard-contexts", defaultValue = "256", description = "contexts per checkpoint: the unit of resume and of distribution") int shardContexts;
    @Option(names = "--spark", paramLabel = "MASTER", description = "run as an Apache Spark job: local[N] in this process, a cluster URL, or 'default' for spark-submit's master; needs the jlens-spark module (scripts/jlens-spark)") String spark;
    @Option(names = "--spark-partitions", defaultValue = "0", description = "Spark partitions per pass; 0 = Spark's default parallelism") int sparkPartitions;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        // every option is checked before any file is read or generated
        Atlas.Options opts = new Atlas.Options(layer, context, top, maxTokens, wholeFiles ? "whole-files" : format, textField, skipBad,
                threads, encoder, batchTokens, shardContexts);
        boolean toy = model == null && saes == null && corpus == null;
        if (!toy && (model == null || saes == null || corpus == null)) {
            throw new IllegalArgumentException("give --model, --sae and --corpus together, or none of them for the toy default");
        }
        if (spark != null) Atlas.requireSpark();
        Path m = model;
        List<String> s = saes;
        String c = corpus;
        if (toy) {
            Atlas.Toy t = Atlas.toy(spec.commandLine().getErr());
            m = t.model();
            s = t.saes();
            c = t.corpus().toString();
        }
        Path dir = out != null ? out : Path.of("runs", toy ? "atlas-toy" : "atlas");
        Checks.outputFolder("--out", dir);
        if (!toy) {
            Checks.regularFile("--model", m);
            for (String sae : s) Checks.saeSource(sae);
        }
        Logs.runFolder(dir);
        ProgressBar bar = new ProgressBar(spec.commandLine().getErr());
        Atlas.Summary r = spark == null ? Atlas.run(m, s, c, dir, opts, bar) : Atlas.runOnSpark(spark, sparkPartitions, m, s, c, dir, opts, bar);
        o.printf("%natlas of %d SAE(s) over %d contexts (%d tokens; %d shards computed, %d resumed; %d contexts hold the examples)%n",
                r.folders().size(), r.contexts(), r.tokens(), r.shardsComputed(), r.shardsReused(), r.exampleContexts());
        for (int i = 0; i < r.folders().size(); i++) {
            Path f = r.folders().get(i).toAbsolutePath();
            o.printf("  %s (%s encoder)%n    %s%n", s.get(i), r.encoders().get(i), f.resolve("atlas.html"));
        }
        return 0;
    }
}
