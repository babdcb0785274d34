package dev.jlens.spark;

import dev.jlens.atlas.FeatureStats;
import dev.jlens.atlas.WindowRequests;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
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

    /** First pass: {@code ShardWork.scan} per shard. */
    static final class Scan implements FlatMapFunction<Iterator<ShardRecord>, ScanResult> {
        private final TaskSpec spec;

        Scan(TaskSpec spec) {
            this.spec = spec;
        }

        @Override
        public Iterator<ScanResult> call(Iterator<ShardRecord> shards) {
            return map(shards, r -> ExecutorResources.withWork(spec, w -> ScanResult.of(r.shard(), w.scan(r.contexts()), w.encoderKinds(), w.encoderReasons())));
        }
    }

    /** Second pass: {@code ShardWork.windows} per shard, for the broadcast requests. */
    static final class Windows implements FlatMapFunction<Iterator<ShardRecord>, WindowResult> {
        private final TaskSpec spec;
        private final Broadcast<WindowRequests> requests;

        Windows(TaskSpec spec, Broadcast<WindowRequests> requests) {
            this.spec = spec;
            this.requests = requests;
        }

        @Override
        public Iterator<WindowResult> call(Iterator<ShardRecord> shards) {
            WindowRequests req = requests.value();
            return map(shards, r -> ExecutorResources.withWork(spec, w -> new WindowResult(r.shard(), w.windows(r.contexts(), req), w.encoderKinds(), w.encoderReasons())));
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
