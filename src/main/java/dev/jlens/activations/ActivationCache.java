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
import dev.jlens.llama.Context;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
    public record ShardMeta(int shard, int promptFrom, int promptTo, long rows, int nEmbd, String sha256, List<int[]> tokens) {}

    private final Path dir;
    private final List<int[]> plan;
    private final int nEmbd;

    public ActivationCache(Path dir, Map<String, String> keyParts, List<int[]> plan, int nEmbd) throws IOException {
        this.dir = dir;
        this.plan = List.copyOf(plan);
        this.nEmbd = nEmbd;
        Files.createDirectories(dir);
        Path key = dir.resolve("key.json");
        if (!Files.isRegularFile(key)) Json.write(key, keyParts);
    }

    @Override public Path dir() { return dir; }
    @Override public int shards() { return plan.size(); }
    public List<int[]> plan() { return plan; }

    Path npy(int i) { return dir.resolve(String.format("shard-%05d.npy", i)); }
    Path metaFile(int i) { return dir.resolve(String.format("shard-%05d.json", i)); }

    /** Whether shard i is complete and its data matches its recorded checksum. */
    public boolean valid(int i) {
        try {
            if (!Files.isRegularFile(metaFile(i)) || !Files.isRegularFile(npy(i))) return false;
            ShardMeta m = meta(i);
            return m.promptFrom() == plan.get(i)[0] && m.promptTo() == plan.get(i)[1] && m.nEmbd() == nEmbd
                    && m.sha256().equals(FileHashes.sha256(npy(i)));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    @Override
    public ShardMeta meta(int i) throws IOException {
        return Json.MAPPER.readValue(metaFile(i).toFile(), new TypeReference<ShardMeta>() {});
    }

    /** Captures every missing or corrupt shard; returns how many were (re)computed. */
    public int fill(Context ctx, List<int[]> tokens, int layer, Progress progress) throws IOException {
        int computed = 0;
        long totalPrompts = tokens.size();
        for (int i = 0; i < plan.size(); i++) {
            int[] b = plan.get(i);
            if (valid(i)) {
                progress.update("capture", b[1], totalPrompts);
                continue;
            }
            Files.deleteIfExists(metaFile(i));
            List<int[]> sub = tokens.subList(b[0], b[1]);
            try (Activations a = ctx.capture(sub, Context.CaptureSpec.layer(layer))) {
                NpyWriter.write(npy(i), dev.jlens.formats.DType.F32, new long[] {a.rows(), nEmbd}, a.data());
                Json.write(metaFile(i), new ShardMeta(i, b[0], b[1], a.rows(), nEmbd, FileHashes.sha256(npy(i)), List.copyOf(sub)));
            }
            computed++;
            progress.update("capture", b[1], totalPrompts);
        }
        return computed;
    }

    /** Visits shard i's activations (mapped read-only) with its metadata. */
    public interface ShardVisitor {
        void visit(ShardMeta meta, MemorySegment rows) throws IOException;
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
