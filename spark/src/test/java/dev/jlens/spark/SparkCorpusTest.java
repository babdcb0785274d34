package dev.jlens.spark;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which --corpus values Spark's own readers take (the rest go to the embedded engine's reader). */
class SparkCorpusTest {
    @Test
    void hadoopUrisAndParquetGoToSparksReaders() {
        assertTrue(SparkCorpus.handles("hdfs://namenode:8020/corpora/pile/part-0.txt"));
        assertTrue(SparkCorpus.handles("s3a://bucket/pile-10k/*.parquet"));
        assertTrue(SparkCorpus.handles("file:///data/corpus.txt"));
        assertTrue(SparkCorpus.handles("data/pile-10k.parquet/"));
        assertTrue(SparkCorpus.handles("a.parquet,b.parquet"));
        assertFalse(SparkCorpus.handles("corpus.txt"));
        assertFalse(SparkCorpus.handles("docs/*.jsonl.gz:more/corpus.txt"));
        assertFalse(SparkCorpus.handles("folder/"));
    }
}
