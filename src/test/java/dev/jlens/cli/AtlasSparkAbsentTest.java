package dev.jlens.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The core does not depend on Spark: {@code jlens atlas --spark} looks the Spark job up at run time, and without the
 * jlens-spark module on the class path (as here: the core's test class path has no Spark) it is bad input, exit 2,
 * with a line saying how to get the module, before any file is read. The job itself is tested in spark/.
 */
class AtlasSparkAbsentTest {
    @Test
    void withoutTheSparkModuleTheOptionIsRefusedNamingTheLauncher() {
        assertThrows(ClassNotFoundException.class, () -> Class.forName("org.apache.spark.sql.SparkSession"));
        CliRunner.Run r = CliRunner.run("atlas", "--model", "no-such-model.gguf", "--sae", "no-such-sae", "--corpus", "no-such-corpus.txt",
                "--spark", "local[2]");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--spark needs the jlens-spark module") && r.err().contains("scripts/jlens-spark"), r.err());
    }
}
