package dev.jlens.study;

import dev.jlens.activations.ShardMeta;
import dev.jlens.activations.TokenizedPrompts;
import dev.jlens.activations.ActivationSource;
import dev.jlens.util.FileHashes;
import dev.jlens.util.Progress;

import dev.jlens.analysis.Label;
import dev.jlens.analysis.PromptActivations;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.FormatException;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SparseCodes;
import dev.jlens.api.Experiment;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per prompt, per feature aggregation of SAE activations over the prompt's non-BOS tokens (BOS by token
 * id): MAX (default), MEAN (inactive tokens count as 0) or LAST (the last token's activation). Works shard
 * by shard; each shard's aggregates are cached in {@code <dir>/agg-NNNNN.bin} (with its SHA-256 in a
 * sidecar) so an interrupted encode resumes and a re-run of the analysis re-encodes nothing.
 */
public final class Aggregator {
    /** One prompt's aggregated sparse activations (features ascending). */
    public record Row(int prompt, int[] features, float[] values) {}

    private Aggregator() {}

    /** Aggregates one shard's token codes into per-prompt rows. */
    static List<Row> aggregate(ShardMeta meta, SparseCodes codes, int bosTokenId, Experiment.Aggregate mode) {
        List<Row> out = new ArrayList<>();
        int row = 0;
        for (int p = meta.promptFrom(); p < meta.promptTo(); p++) {
            int[] toks = meta.tokens().get(p - meta.promptFrom());
            Map<Integer, Float> acc = new TreeMap<>();
            int counted = 0;
            int last = -1;
            for (int k = 0; k < toks.length; k++, row++) {
                if (TokenizedPrompts.isBosRow(toks, k, bosTokenId)) continue;
                counted++;
                last = row;
                if (mode == Experiment.Aggregate.LAST) continue;
                int[] idx = codes.indices(row);
                float[] val = codes.values(row);
                for (int i = 0; i < idx.length; i++) {
                    if (mode == Experiment.Aggregate.MAX) acc.merge(idx[i], val[i], Math::max);
                    else acc.merge(idx[i], val[i], Float::sum);
                }
            }
            if (mode == Experiment.Aggregate.LAST && last >= 0) {
                int[] idx = codes.indices(last);
                float[] val = codes.values(last);
                for (int i = 0; i < idx.length; i++) acc.put(idx[i], val[i]);
            }
            int[] f = new int[acc.size()];
            float[] v = new float[acc.size()];
            int i = 0;
            for (var e : acc.entrySet()) {
                f[i] = e.getKey();
                v[i] = mode == Experiment.Aggregate.MEAN ? e.getValue() / counted : e.getValue();
                i++;
            }
            out.add(new Row(p, f, v));
        }
        if (row != meta.rows()) throw new IllegalStateException("shard " + meta.shard() + ": " + row + " token rows, expected " + meta.rows());
        return out;
    }

    /**
     * Aggregates every shard of the cache (encoding only the shards whose aggregates are missing or
     * corrupt) and returns all prompt rows in prompt order.
     */
    public static List<Row> run(ActivationSource cache, Path aggDir, SaeEncoder encoder, int bosTokenId, Experiment.Aggregate mode, Progress progress)
            throws IOException {
        Files.createDirectories(aggDir);
        List<Row> all = new ArrayList<>();
        for (int i = 0; i < cache.shards(); i++) {
            Path bin = aggDir.resolve(String.format("agg-%05d.bin", i));
            Path sum = aggDir.resolve(String.format("agg-%05d.sha256", i));
            List<Row> rows = null;
            if (Files.isRegularFile(bin) && Files.isRegularFile(sum) && Files.readString(sum).strip().equals(FileHashes.sha256(bin))) {
                try {
                    rows = readRows(bin);
                } catch (IOException e) {
                    rows = null;
                }
            }
            if (rows == null) {
                Files.deleteIfExists(sum);
                List<Row> computed = new ArrayList<>();
                cache.read(i, (meta, x) -> {
                    int dIn = encoder.sae().dIn();
                    int block = 256;
                    List<SparseCodes> parts = new ArrayList<>();
                    for (long r0 = 0; r0 < meta.rows(); r0 += block) {
                        int n = (int) Math.min(block, meta.rows() - r0);
                        parts.add(encoder.encode(x.asSlice(r0 * dIn * 4, (long) n * dIn * 4), n));
                    }
                    SparseCodes codes = parts.isEmpty() ? SparseCodes.empty(encoder.sae().dSae()) : SparseCodes.merge(parts);
                    computed.addAll(aggregate(meta, codes, bosTokenId, mode));
                });
                writeRows(bin, computed);
                dev.jlens.formats.AtomicFiles.writeString(sum, FileHashes.sha256(bin) + "\n");
                rows = computed;
            }
            all.addAll(rows);
            progress.update("encode", i + 1, cache.shards());
        }
        return all;
    }

    static void writeRows(Path file, List<Row> rows) throws IOException {
        AtomicFiles.writeStream(file, os -> {
            DataOutputStream out = new DataOutputStream(os);
            out.writeInt(0x4A4C4147); // "JLAG"
            out.writeInt(rows.size());
            for (Row r : rows) {
                out.writeInt(r.prompt());
                out.writeInt(r.features().length);
                for (int f : r.features()) out.writeInt(f);
                for (float v : r.values()) out.writeFloat(v);
            }
            out.flush();
        });
    }

    static List<Row> readRows(Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != 0x4A4C4147) throw new FormatException(file, "magic", "not a jlens aggregate file");
            int n = in.readInt();
            if (n < 0 || n > 10_000_000) throw new FormatException(file, "rows", String.valueOf(n));
            List<Row> rows = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int p = in.readInt();
                int k = in.readInt();
                if (k < 0 || k > 10_000_000) throw new FormatException(file, "row " + i, "bad feature count " + k);
                int[] f = new int[k];
                float[] v = new float[k];
                for (int j = 0; j < k; j++) f[j] = in.readInt();
                for (int j = 0; j < k; j++) v[j] = in.readFloat();
                rows.add(new Row(p, f, v));
            }
            return rows;
        }
    }

    /** The rows as analysis input, with labels (target first, then control) and facets. */
    static PromptActivations toAnalysis(Row r, Label label, String facet) {
        return new PromptActivations(r.prompt(), label, facet, r.features(), r.values());
    }

    static Map<Integer, Row> byPrompt(List<Row> rows) {
        Map<Integer, Row> m = new HashMap<>();
        for (Row r : rows) m.put(r.prompt(), r);
        return m;
    }

    static String describe(Row r) { return r.prompt() + ":" + Arrays.toString(r.features()); }
}
