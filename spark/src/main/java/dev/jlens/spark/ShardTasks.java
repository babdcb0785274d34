package dev.jlens.spark;

import dev.jlens.atlas.FeatureStats;
import dev.jlens.atlas.ShardCodes;
import dev.jlens.atlas.WindowRequests;
import org.apache.spark.SparkFiles;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The two per-partition functions of the Spark job. Each runs {@link dev.jlens.atlas.ShardWork} - the same code
 * the embedded engine runs - on the partition's shards, one after the other, with the executor's resources
 * ({@link ExecutorResources}). They capture only a {@link TaskSpec} and, for the second pass, the broadcast window
 * requests.
 */
final class ShardTasks {
    private ShardTasks() {}

    /** A shard's first-pass statistics: every SAE's {@link FeatureStats}, serialized in SAE order. */
    record ScanResult(int shard, byte[] stats, List<String> encoders, List<String> reasons) implements Serializable {
        static ScanResult of(int shard, List<FeatureStats> stats, List<String> encoders, List<String> reasons) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeInt(stats.size());
                for (FeatureStats s : stats) s.write(out);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new ScanResult(shard, bytes.toByteArray(), List.copyOf(encoders), List.copyOf(reasons));
        }

        List<FeatureStats> read() throws IOException {
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(stats))) {
                int n = in.readInt();
                List<FeatureStats> l = new ArrayList<>(n);
                for (int i = 0; i < n; i++) l.add(FeatureStats.read(in));
                if (in.read() != -1) throw new IOException("shard " + shard + ": trailing bytes after " + n + " statistics");
                return l;
            }
        }
    }

    /** A shard's second-pass windows. */
    record WindowResult(int shard, WindowRequests.Results windows, List<String> encoders, List<String> reasons) implements Serializable {}

    /** Shards whose example windows came from their spilled codes / were decoded again, in this JVM (for tests). */
    private static final java.util.concurrent.atomic.AtomicInteger FROM_SPILL = new java.util.concurrent.atomic.AtomicInteger();
    private static final java.util.concurrent.atomic.AtomicInteger REDECODED = new java.util.concurrent.atomic.AtomicInteger();

    static int windowsFromSpill() { return FROM_SPILL.get(); }

    static int windowsRedecoded() { return REDECODED.get(); }

    /**
     * Where a task spills its shards' sparse codes: a folder named by the job's {@code nonce} under the process's
     * {@link SparkFiles#getRootDirectory()} (in local mode the driver's per-application temporary folder, which Spark
     * deletes at exit; on a cluster the executor's own working folder, which the cluster manager removes with the
     * application). The second pass reads a shard's windows from there when its task runs in the process that scanned
     * it (always in local mode) and decodes the shard again otherwise, as the embedded engine does with a lost file:
     * the same windows either way (ShardCodes holds the same codes the decode gives).
     */
    static Path spillDir(String nonce) {
        return Path.of(SparkFiles.getRootDirectory()).toAbsolutePath().resolve("jlens-atlas-spill-" + nonce);
    }

    private static Path spillFile(String nonce, int shard) {
        return spillDir(nonce).resolve(String.format("codes-%06d.bin", shard));
    }

    /** First pass: {@code ShardWork.scan} per shard, its codes spilled for the second pass. */
    static final class Scan implements FlatMapFunction<Iterator<ShardRecord>, ScanResult> {
        private final TaskSpec spec;
        private final String nonce;

        Scan(TaskSpec spec, String nonce) {
            this.spec = spec;
            this.nonce = nonce;
        }

        @Override
        public Iterator<ScanResult> call(Iterator<ShardRecord> shards) {
            return map(shards, r -> ExecutorResources.withWork(spec, w -> {
                ShardCodes.Writer spill = new ShardCodes.Writer(spec.saes().size());
                List<FeatureStats> stats = w.scan(r.contexts(), spill);
                Path file = spillFile(nonce, r.shard());
                try {
                    Files.createDirectories(file.getParent());
                    spill.write(file, r.shard());
                } catch (IOException | UncheckedIOException e) {
                    // only a shortcut: without the file the second pass decodes this shard again
                    try { Files.deleteIfExists(file); } catch (IOException ignored) { }
                }
                return ScanResult.of(r.shard(), stats, w.encoderKinds(), w.encoderReasons());
            }));
        }
    }

    /** Second pass: each shard's windows from its spilled codes, else {@code ShardWork.windows}, for the broadcast requests. */
    static final class Windows implements FlatMapFunction<Iterator<ShardRecord>, WindowResult> {
        private final TaskSpec spec;
        private final Broadcast<WindowRequests> requests;
        private final String nonce;

        Windows(TaskSpec spec, Broadcast<WindowRequests> requests, String nonce) {
            this.spec = spec;
            this.requests = requests;
            this.nonce = nonce;
        }

        @Override
        public Iterator<WindowResult> call(Iterator<ShardRecord> shards) {
            WindowRequests req = requests.value();
            return map(shards, r -> ExecutorResources.withWork(spec, w -> {
                Path file = spillFile(nonce, r.shard());
                WindowRequests.Results res = ShardCodes.windows(file, r.shard(), r.contexts(), req, spec.settings());
                if (res == null) {
                    res = w.windows(r.contexts(), req);
                    REDECODED.incrementAndGet();
                } else {
                    FROM_SPILL.incrementAndGet();
                }
                try { Files.deleteIfExists(file); } catch (IOException ignored) { } // read once; Spark removes the folder at exit
                return new WindowResult(r.shard(), res, w.encoderKinds(), w.encoderReasons());
            }));
        }
    }

    /** Lazily maps the partition's shards, so one shard's contexts are in memory at a time besides Spark's copy. */
    private static <T> Iterator<T> map(Iterator<ShardRecord> in, java.util.function.Function<ShardRecord, T> f) {
        return new Iterator<>() {
            @Override
            public boolean hasNext() { return in.hasNext(); }

            @Override
            public T next() { return f.apply(in.next()); }
        };
    }
}
