package dev.jlens.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.api.Atlas;
import dev.jlens.atlas.AtlasEngine;
import dev.jlens.atlas.AtlasSettings;
import dev.jlens.atlas.corpus.CorpusFormat;
import dev.jlens.atlas.corpus.CorpusSpec;
import dev.jlens.util.Progress;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Spark job on an embedded local[2] master against the embedded engine, on the planted toy model and its coarse
 * SAE: the same job, partitioned in 1, 2 and 7 ways (and in several waves), writes the same bytes; the Parquet
 * tables agree with features.jsonl; the corpus read by Spark's own readers (Parquet, text on a file:// URI) gives
 * the same statistics as the embedded reader.
 */
class AtlasSparkJobTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A prefix of the toy corpus: about 40 contexts, 10 shards of 4 (one 128-token batch each), fast on two busy cores. */
    private static final long MAX_TOKENS = 600;
    private static final int BATCH_TOKENS = 128, PER_SHARD = 4;
    private static final List<String> FILES = List.of("features.jsonl", "density.npy", "max.npy", "atlas.json");

    @TempDir static Path tmp;
    static SparkSession spark;
    static Atlas.Toy toy;
    static Atlas.Summary embedded;

    static Atlas.Options options() {
        return Atlas.Options.defaults().withMaxTokens(MAX_TOKENS).withBatching(BATCH_TOKENS, PER_SHARD).withThreads(2);
    }

    @BeforeAll
    static void start() throws IOException {
        toy = Atlas.toy(null);
        long t0 = System.nanoTime();
        embedded = Atlas.run(toy.model(), saes(), toy.corpus().toString(), tmp.resolve("embedded"), options(), null);
        System.out.printf("embedded: %d contexts, %d tokens, %.2f s%n", embedded.contexts(), embedded.tokens(), (System.nanoTime() - t0) / 1e9);
        spark = SparkSession.builder().master("local[2]").appName("jlens atlas test")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    /** The coarse SAE (the fine one's 4,600 fired features make the logit lens slow; AtlasSparkCliTest runs both). */
    static List<String> saes() {
        return List.of(toy.saes().getFirst());
    }

    static AtlasEngine.Job job(Path out) {
        AtlasSettings s = AtlasSettings.defaults(12, 2).withBatching(BATCH_TOKENS, PER_SHARD);
        return new AtlasEngine.Job(toy.model(), saes(), s, out);
    }

    static CorpusSpec corpus(String inputs) {
        return new CorpusSpec(inputs, CorpusFormat.AUTO, "text", false, 128, MAX_TOKENS);
    }

    static AtlasEngine.Result runSpark(Path out, AtlasSparkJob.SparkOptions o, String inputs) throws IOException {
        long t0 = System.nanoTime();
        List<String> stages = new ArrayList<>();
        Progress p = (stage, done, total) -> {
            if (stages.isEmpty() || !stages.getLast().equals(stage)) stages.add(stage);
        };
        AtlasEngine.Result r = AtlasSparkJob.run(spark, o, job(out), AtlasSparkJob.corpusFactory(spark, corpus(inputs), out), p);
        System.out.printf("spark %s on %s: %.2f s%n", o, inputs, (System.nanoTime() - t0) / 1e9);
        assertEquals(List.of("scan", "examples"), stages);
        return r;
    }

    static void assertSameFiles(List<Path> expected, List<Path> actual, List<String> files) throws IOException {
        assertEquals(expected.size(), actual.size());
        for (int i = 0; i < expected.size(); i++) {
            for (String f : files) {
                assertArrayEquals(Files.readAllBytes(expected.get(i).resolve(f)), Files.readAllBytes(actual.get(i).resolve(f)),
                        f + " of SAE " + i + " differs from the embedded run (" + actual.get(i) + ")");
            }
        }
    }

    static final Map<Integer, AtlasEngine.Result> PARTITIONED = new TreeMap<>();
    /** Per n: shards whose example windows came from the first pass's spilled codes, and those decoded again. */
    static final Map<Integer, int[]> SPILL_USE = new TreeMap<>();

    /** The toy job on n partitions (run once per n); with 7, in waves of 3 shards: several Spark jobs per pass, one partial. */
    static synchronized AtlasEngine.Result partitioned(int n) throws IOException {
        AtlasEngine.Result r = PARTITIONED.get(n);
        if (r == null) {
            AtlasSparkJob.SparkOptions o = AtlasSparkJob.SparkOptions.defaults().withPartitions(n).withShardsPerWave(n == 7 ? 3 : 0);
            int spilled = ShardTasks.windowsFromSpill(), redecoded = ShardTasks.windowsRedecoded();
            r = runSpark(tmp.resolve("spark-" + n), o, toy.corpus().toString());
            PARTITIONED.put(n, r);
            SPILL_USE.put(n, new int[] {ShardTasks.windowsFromSpill() - spilled, ShardTasks.windowsRedecoded() - redecoded});
        }
        return r;
    }

    @Test
    void oneTwoAndSevenPartitionsWriteTheEmbeddedRunsBytes() throws IOException {
        long shards = (embedded.contexts() + PER_SHARD - 1) / PER_SHARD;
        assertTrue(shards >= 7, "enough shards for 7 partitions: " + shards);
        int loadsBefore = ExecutorResources.loads();
        for (int n : new int[] {1, 2, 7}) {
            AtlasEngine.Result r = partitioned(n);
            assertEquals(embedded.contexts(), r.contexts());
            assertEquals(embedded.tokens(), r.tokens());
            assertEquals(embedded.exampleContexts(), r.windowContexts());
            assertEquals(embedded.encoders(), r.encoders());
            assertEquals(shards, r.shardsComputed());
            assertEquals(0, r.shardsReused());
            assertSameFiles(embedded.folders(), r.folders(), FILES);
            assertFalse(Files.exists(tmp.resolve("spark-" + n).resolve(".atlas-work").resolve("key.json")), "work folder left");
            // local mode: every shard's windows come from the codes its scan task spilled, none is decoded twice
            int[] use = SPILL_USE.get(n);
            assertEquals(0, use[1], n + " partitions: shards decoded again for their windows");
            assertTrue(use[0] > 0, n + " partitions: no shard's windows came from spilled codes");
        }
        try (java.util.stream.Stream<Path> left = Files.list(Path.of(org.apache.spark.SparkFiles.getRootDirectory()))) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith("jlens-atlas-spill-")).toList(), "spill folders left");
        }
        // the executor (this JVM, in local mode) opened the model and SAEs at most once for all runs and both passes
        assertTrue(ExecutorResources.loads() - loadsBefore <= 1, "model loads: " + (ExecutorResources.loads() - loadsBefore));
    }

    @Test
    void aStoppedRunResumesFromItsCheckpointedShardsAndFinishesWithTheSameBytes() throws IOException {
        Path out = tmp.resolve("resume");
        AtlasSparkJob.SparkOptions o = AtlasSparkJob.SparkOptions.defaults().withPartitions(2).withShardsPerWave(3);
        // stopped (as by Ctrl-C on the driver) once the first wave of 3 shards is merged and checkpointed
        Progress stop = (stage, done, total) -> {
            throw new IllegalStateException("stopped at " + stage + " " + done + "/" + total);
        };
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> AtlasSparkJob.run(spark, o, job(out), AtlasSparkJob.corpusFactory(spark, corpus(toy.corpus().toString()), out), stop));
        assertTrue(e.getMessage().startsWith("stopped at scan"), e.getMessage());
        int redecoded = ShardTasks.windowsRedecoded();
        AtlasEngine.Result r = runSpark(out, o, toy.corpus().toString());
        long shards = (embedded.contexts() + PER_SHARD - 1) / PER_SHARD;
        // the resumed run's spills are its own: only the 3 checkpointed shards may need a second decode for their windows
        assertTrue(ShardTasks.windowsRedecoded() - redecoded <= 3, "shards decoded again: " + (ShardTasks.windowsRedecoded() - redecoded));
        assertEquals(3, r.shardsReused());
        assertEquals(shards - 3, r.shardsComputed());
        assertSameFiles(embedded.folders(), r.folders(), FILES);
    }

    @Test
    void aNullTextInAParquetCorpusIsAnErrorNamingFileAndRow() throws IOException {
        Path pq = tmp.resolve("nulls.parquet");
        List<Row> rows = List.of(org.apache.spark.sql.RowFactory.create("The capital of France is Paris."), org.apache.spark.sql.RowFactory.create((Object) null));
        spark.createDataFrame(rows, new org.apache.spark.sql.types.StructType().add("text", "string")).coalesce(1).write().parquet(pq.toString());
        Path out = tmp.resolve("nulls-out");
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(dev.jlens.atlas.corpus.CorpusException.class,
                () -> AtlasSparkJob.run(spark, AtlasSparkJob.SparkOptions.defaults(), job(out), AtlasSparkJob.corpusFactory(spark, corpus(pq.toString()), out), Progress.NONE));
        assertTrue(e.getMessage().contains(pq.getFileName().toString()) && e.getMessage().contains("line 2") && e.getMessage().contains("null"), e.getMessage());
        assertFalse(Files.exists(out.resolve("features.jsonl")));
    }

    @Test
    void parquetTablesLoadBackAndAgreeWithFeaturesJsonl() throws IOException {
        AtlasEngine.Result r = partitioned(2);
        for (Path folder : r.folders()) {
            Map<Integer, JsonNode> byFeature = new TreeMap<>();
            for (String line : Files.readAllLines(folder.resolve("features.jsonl"))) {
                JsonNode n = JSON.readTree(line);
                byFeature.put(n.get("feature").asInt(), n);
            }
            List<Row> features = spark.read().parquet(folder.resolve("features.parquet").toString()).orderBy("feature").collectAsList();
            assertEquals(byFeature.size(), features.size(), folder + ": features");
            for (Row row : features) {
                JsonNode n = byFeature.get(row.<Integer>getAs("feature"));
                assertEquals(n.get("fires").asLong(), row.<Long>getAs("fires"));
                assertEquals(n.get("tokens").asLong(), row.<Long>getAs("tokens"));
                assertEquals(n.get("density").asDouble(), row.<Double>getAs("density"));
                assertEquals(n.get("max").floatValue(), row.<Float>getAs("max"));
                assertEquals(n.get("mean").floatValue(), row.<Float>getAs("mean"));
            }
            // every example row, grouped in Java by (feature, list) and ordered by rank
            Map<String, List<Row>> lists = new TreeMap<>();
            for (Row row : spark.read().parquet(folder.resolve("examples.parquet").toString()).orderBy("feature", "kind", "interval", "rank").collectAsList()) {
                String key = row.<Integer>getAs("feature") + " " + row.<String>getAs("kind") + (row.isNullAt(row.fieldIndex("interval")) ? "" : " " + row.<Integer>getAs("interval"));
                lists.computeIfAbsent(key, k -> new ArrayList<>()).add(row);
            }
            int nonEmpty = 0;
            for (JsonNode n : byFeature.values()) {
                int f = n.get("feature").asInt();
                nonEmpty += assertExamples(n.get("top"), lists.getOrDefault(f + " top", List.of()), f + " top");
                JsonNode q = n.get("quantiles");
                for (int j = 0; j < q.size(); j++) {
                    nonEmpty += assertExamples(q.get(j).get("examples"), lists.getOrDefault(f + " quantile " + j, List.of()), f + " quantile " + j);
                }
            }
            assertEquals(lists.size(), nonEmpty, folder + ": example lists in Parquet but not in features.jsonl");
        }
    }

    /** Checks one example list; returns 1 when it is not empty (so the Parquet rows' lists can be counted). */
    private static int assertExamples(JsonNode expected, List<Row> rows, String what) {
        assertEquals(expected.size(), rows.size(), what);
        for (int k = 0; k < rows.size(); k++) {
            Row row = rows.get(k);
            assertEquals(k, row.<Integer>getAs("rank"), what);
            assertEquals(expected.get(k).get("context").asLong(), row.<Long>getAs("context"), what + " context");
            assertEquals(expected.get(k).get("position").asInt(), row.<Integer>getAs("position"), what + " position");
            assertEquals(expected.get(k).get("value").floatValue(), row.<Float>getAs("value"), what + " value");
        }
        return rows.isEmpty() ? 0 : 1;
    }

    @Test
    void parquetAndHadoopTextCorporaReadBySparkGiveTheSameStatistics() throws IOException {
        // the toy corpus as a Parquet folder of three files (rows in line order), and as a file:// URI
        List<String> lines = Files.readAllLines(toy.corpus());
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) rows.add(org.apache.spark.sql.RowFactory.create((long) i, lines.get(i)));
        org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
                .add("id", "long").add("text", "string");
        Path pq = tmp.resolve("corpus.parquet");
        spark.createDataFrame(rows, schema).repartitionByRange(3, col("id")).sortWithinPartitions("id").write().parquet(pq.toString());
        for (String inputs : List.of(pq.toString(), toy.corpus().toUri().toString())) {
            AtlasEngine.Result r = runSpark(tmp.resolve("read-" + Math.abs(inputs.hashCode())), AtlasSparkJob.SparkOptions.defaults(), inputs);
            assertEquals(embedded.contexts(), r.contexts(), inputs);
            // the corpus is described differently (reader, paths), the statistics are the same
            assertSameFiles(embedded.folders(), r.folders(), List.of("features.jsonl", "density.npy", "max.npy"));
            JsonNode meta = JSON.readTree(r.folders().getFirst().resolve("atlas.json").toFile());
            assertEquals("spark", meta.get("corpus").get("reader").asText());
            assertEquals(inputs.endsWith(".parquet") ? 3 : 1, meta.get("corpus").get("files").size(), meta.get("corpus").toString());
        }
    }
}
