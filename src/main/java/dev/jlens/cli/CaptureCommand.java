package dev.jlens.cli;

import dev.jlens.api.CaptureFolder;
import dev.jlens.api.Prompts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "capture", mixinStandardHelpOptions = true,
        description = "Capture the residual stream after a layer for a prompt file; writes activations.npy and tokens.csv.")
final class CaptureCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, description = "gemma2 GGUF file") Path model;
    @Option(names = "--prompts", required = true, description = "prompts: .txt (one per line) or .jsonl ({\"text\":...})") Path prompts;
    @Option(names = "--out", required = true, description = "output folder") Path out;
    @Option(names = "--layer", defaultValue = "12", description = "layer whose output (l_out, = blocks.L.hook_resid_post) is captured") int layer;
    @Option(names = "--ctx", defaultValue = "2048", description = "context size in tokens (the most tokens per batch)") int ctx;
    @Option(names = "--ubatch", defaultValue = "512", description = "tokens per compute step") int ubatch;
    int seqs;
    int threads;

    @Option(names = "--seqs", defaultValue = "64", description = "most prompts per batch, 1..256")
    void setSeqs(int n) { seqs = ExperimentOptions.checkSeqs(spec, n); }

    @Option(names = "--threads", defaultValue = "0", description = "CPU threads (0 = all cores; at most 4 x the cores, 512 in all)")
    void setThreads(int n) { threads = ExperimentOptions.checkThreads(spec, n); }
    @Option(names = "--gpu-layers", defaultValue = "0", description = "layers to offload to a GPU backend (llama.cpp offloads the LAST layers)") int gpuLayers;
    @Option(names = "--gpu-capture", description = "offload exactly blocks 0..layer to the GPU (needs a CUDA build); blocks above and the output stay on the CPU") boolean gpuCapture;
    @Option(names = "--fast-kv", description = "f16 K/V cache (llama.cpp's default): half the cache memory, ~2e-3 instead of ~4e-5 row error at layer 12; without it K/V are f32 and flash attention is off") boolean fastKv;
    @Option(names = "--isolated", description = "run llama.cpp in a worker process: a native abort is exit 2 naming the model, with nothing written to --out, instead of killing jlens") boolean isolated;

    @Override
    public Integer call() throws Exception {
        Checks.outputFolder("--out", out);
        Checks.promptFile("--prompts", prompts);
        Checks.modelLayer("--model", model, layer);
        Logs.runFolder(out);
        var texts = Prompts.load(prompts);
        int nThreads = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        var options = new CaptureFolder.Options(ctx, ubatch, seqs, nThreads, gpuLayers, gpuCapture, isolated).withFastKv(fastKv);
        CaptureFolder.Result r = CaptureFolder.write(model, texts, layer, out, options, new ProgressBar(spec.commandLine().getErr(), "capture", "tokens"));
        spec.commandLine().getOut().printf("captured layer %d: %d rows x %d in %.2f s%n  %s%n  %s%n",
                r.layer(), r.rows(), r.dModel(), r.seconds(), r.activations(), r.tokens());
        return 0;
    }
}
