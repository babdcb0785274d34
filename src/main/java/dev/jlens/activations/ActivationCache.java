package dev.jlens.activations;

import dev.jlens.util.FileHashes;
import dev.jlens.util.Json;
import dev.jlens.util.Progress;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.jlens.formats.FormatException;
import dev.jlens.formats.Npy;
import dev.jlens.formats.NpyWriter;
import dev.jlens.formats.Tensor;
import dev.jlens.llama.Activations;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Captured residual activations on disk, one shard per planned batch, keyed by everything that
 * determines them (model file hash, layer, prompts, llama.cpp commit, batch geometry). A second SAE or a
 * re-run of the analysis reads the shards instead of running the model; an interrupted capture resumes
 * at the first missing or corrupt shard. Each shard is {@code shard-NNNNN.npy} (f32 [rows x n_embd])
 * plus {@code shard-NNNNN.json} (prompt range, token ids, the npy's SHA-256), both written atomically,
 * the json last, so a shard counts only when complete.
 */
public final class ActivationCache implements ActivationSource {
    private final Path dir;
    private final List<CaptureSource.Batch> plan;
    private final int nEmbd;

    /** @param plan the batches of {@link CaptureSource#plan}: one shard each */
    public ActivationCache(Path dir, Map<String, String> keyParts, List<CaptureSource.Batch> plan, int nEmbd) throws IOException {
        this.dir = dir;
        this.plan = List.copyOf(plan);
        this.nEmbd = nEmbd;
        Files.createDirectories(dir);
        Path key = dir.resolve("key.json");
        if (!Files.isRegularFile(key)) Json.write(key, keyParts);
    }

    @Override public Path dir() { return dir; }
    @Override public int shards() { return plan.size(); }
    public List<CaptureSource.Batch> plan() { return plan; }

    Path npy(int i) { return dir.resolve(String.format("shard-%05d.npy", i)); }
    Path metaFile(int i) { return dir.resolve(String.format("shard-%05d.json", i)); }

    /** Whether shard i is complete and its data matches its recorded checksum. */
    public boolean valid(int i) {
        try {
            if (!Files.isRegularFile(metaFile(i)) || !Files.isRegularFile(npy(i))) return false;
            ShardMeta m = meta(i);
            return m.promptFrom() == plan.get(i).from() && m.promptTo() == plan.get(i).to() && m.nEmbd() == nEmbd
                    && m.sha256().equals(FileHashes.sha256(npy(i)));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public ShardMeta meta(int i) throws IOException {
        return Json.MAPPER.readValue(metaFile(i).toFile(), new TypeReference<ShardMeta>() {});
    }

    /** Whether any shard is missing or corrupt (a capture is needed). */
    public boolean anyMissing() {
        for (int i = 0; i < plan.size(); i++) if (!valid(i)) return true;
        return false;
    }

    /**
     * Captures every missing or corrupt shard through {@code source}, one planned batch each; returns how many were
     * (re)computed. {@code tokens} are the prompts the plan was made for.
     */
    public int fill(CaptureSource source, List<int[]> tokens, Progress progress) throws IOException {
        int computed = 0;
        long totalPrompts = tokens.size();
        for (int i = 0; i < plan.size(); i++) {
            CaptureSource.Batch b = plan.get(i);
            if (valid(i)) {
                progress.update("capture", b.to(), totalPrompts);
                continue;
            }
            Files.deleteIfExists(metaFile(i));
            try (Activations a = source.capture(tokens, b)) {
                NpyWriter.write(npy(i), dev.jlens.formats.DType.F32, new long[] {a.rows(), nEmbd}, a.data());
                Json.write(metaFile(i), new ShardMeta(i, b.from(), b.to(), a.rows(), nEmbd, FileHashes.sha256(npy(i)),
                        List.copyOf(tokens.subList(b.from(), b.to()))));
            }
            computed++;
            progress.update("capture", b.to(), totalPrompts);
        }
        return computed;
    }

    @Override
    public void read(int i, ShardVisitor visitor) throws IOException {
        ShardMeta m = meta(i);
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Npy.read(npy(i), a);
            if (t.rank() != 2 || t.dim(0) != m.rows() || t.dim(1) != nEmbd) {
                throw new FormatException(npy(i), "shape", "expected [" + m.rows() + ", " + nEmbd + "], got " + java.util.Arrays.toString(t.shape()));
            }
            visitor.visit(m, t.data());
        }
    }
}
