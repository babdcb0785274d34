package dev.jlens.atlas;

import dev.jlens.formats.AtomicFiles;
import dev.jlens.sae.SparseCodes;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * A shard's sparse codes spilled to disk by the first pass, so that the second pass cuts the example windows out
 * of them instead of running the model again (the codes are the first pass's own, so the windows are exact).
 * Per context: id, token count, then per SAE and token its active (feature, value) pairs. CRC-32 checked;
 * written atomically. About 8 bytes per active feature per token (L0 80: ~640 bytes a token), deleted with the
 * run's work folder when the run completes.
 */
public final class ShardCodes {
    private static final int MAGIC = 0x4A4C4353; // "JLCS"

    private ShardCodes() {}

    /** Collects a shard's codes as the first pass produces them, then writes them. */
    public static final class Writer {
        private final List<long[]> ids = new ArrayList<>();          // [context id, tokens]
        private final List<SparseCodes[]> codes = new ArrayList<>(); // per context: per SAE, rows of the context
        private final int saes;

        public Writer(int saes) { this.saes = saes; }

        /** One context's rows [from, to) of each SAE's codes for its batch. */
        public void add(long context, List<SparseCodes> batchCodes, int from, int to) {
            SparseCodes[] c = new SparseCodes[saes];
            for (int s = 0; s < saes; s++) c[s] = slice(batchCodes.get(s), from, to);
            ids.add(new long[] {context, to - from});
            codes.add(c);
        }

        public void write(Path file, int shard) throws IOException {
            AtomicFiles.writeStream(file, os -> {
                CRC32 crc = new CRC32();
                DataOutputStream out = new DataOutputStream(new CheckedOutputStream(os, crc));
                out.writeInt(MAGIC);
                out.writeInt(shard);
                out.writeInt(ids.size());
                out.writeInt(saes);
                for (int i = 0; i < ids.size(); i++) {
                    out.writeLong(ids.get(i)[0]);
                    out.writeInt((int) ids.get(i)[1]);
                    for (SparseCodes c : codes.get(i)) {
                        out.writeInt(c.dSae());
                        for (int t = 0; t < c.nTokens(); t++) {
                            int n = c.l0(t);
                            long off = c.offset(t);
                            out.writeInt(n);
                            for (int j = 0; j < n; j++) {
                                out.writeInt(c.indexAt(off + j));
                                out.writeFloat(c.valueAt(off + j));
                            }
                        }
                    }
                }
                out.flush();
                new DataOutputStream(os).writeLong(crc.getValue());
            });
        }
    }

    private static SparseCodes slice(SparseCodes c, int from, int to) {
        int[][] idx = new int[to - from][];
        float[][] val = new float[to - from][];
        for (int r = from; r < to; r++) {
            idx[r - from] = c.indices(r);
            val[r - from] = c.values(r);
        }
        return SparseCodes.of(c.dSae(), idx, val);
    }

    /**
     * The requested windows of this shard from its spilled codes; null when the file is missing, damaged or not
     * this shard's (the caller then decodes the shard again).
     */
    public static WindowRequests.Results windows(Path file, int shard, List<AtlasContext> contexts, WindowRequests req, AtlasSettings s) {
        if (!Files.isRegularFile(file)) return null;
        WindowRequests.Results out = new WindowRequests.Results(req.saes());
        CRC32 crc = new CRC32();
        try (var raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            DataInputStream in = new DataInputStream(new CheckedInputStream(raw, crc));
            if (in.readInt() != MAGIC || in.readInt() != shard || in.readInt() != contexts.size() || in.readInt() != req.saes()) return null;
            for (AtlasContext x : contexts) {
                if (in.readLong() != x.id() || in.readInt() != x.tokens().length) return null;
                boolean wanted = req.wants(x.id());
                for (int sae = 0; sae < req.saes(); sae++) {
                    int dSae = in.readInt();
                    int[][] idx = new int[x.tokens().length][];
                    float[][] val = new float[x.tokens().length][];
                    for (int t = 0; t < idx.length; t++) {
                        int n = in.readInt();
                        if (n < 0 || n > dSae) return null;
                        idx[t] = new int[n];
                        val[t] = new float[n];
                        for (int j = 0; j < n; j++) {
                            idx[t][j] = in.readInt();
                            val[t][j] = in.readFloat();
                        }
                    }
                    if (!wanted) continue;
                    SparseCodes c = SparseCodes.of(dSae, idx, val);
                    for (int[] fp : req.requests(sae, x.id())) out.put(sae, x.id(), fp[0], ShardWork.window(c, 0, x.tokens(), fp[0], fp[1], s));
                }
            }
            long expected = crc.getValue();
            if (new DataInputStream(raw).readLong() != expected) return null;
            return out;
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }
}
