package dev.jlens.reliability;

import dev.jlens.cli.CliRunner;
import dev.jlens.llama.Context;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * --threads and --seqs are checked while the command line is parsed: exit 2 naming the option and the value the
 * user typed, before any file is read (the model and prompt paths here do not exist, and that is not what is
 * reported). --threads 10000 segfaulted inside llama.cpp; --threads -5 was taken as "all cores".
 */
class ThreadAndSeqBoundsTest {
    @TempDir Path dir;

    private CliRunner.Run capture(String option, String value) {
        return CliRunner.run("capture", "--model", dir.resolve("absent.gguf").toString(), "--prompts", dir.resolve("absent.txt").toString(),
                "--out", dir.resolve("out").toString(), "--ctx", "512", option, value);
    }

    private void assertRejected(CliRunner.Run r, String option, String value) {
        assertEquals(2, r.code(), r.err());
        String first = r.err().lines().findFirst().orElse("");
        assertTrue(first.contains(option) && first.contains("got " + value), "first line names the option and value: " + r.err());
        assertFalse(r.err().contains("absent"), "rejected before any file was looked at: " + r.err());
        assertFalse(Files.exists(dir.resolve("out")));
    }

    @ParameterizedTest(name = "--threads {0}")
    @ValueSource(strings = {"10000", "-5", "-1", "513", "2147483647"})
    void captureRejectsThreadCountsOutsideTheBound(String n) {
        assertRejected(capture("--threads", n), "--threads", n);
    }

    @Test
    void theThreadBoundIsFourTimesTheCoresAtMost512() {
        int max = Math.min(512, 4 * Runtime.getRuntime().availableProcessors());
        assertRejected(capture("--threads", Integer.toString(max + 1)), "--threads", Integer.toString(max + 1));
        // max itself and 0 (= all cores) pass the parse: what fails next is the missing prompts file
        for (String ok : new String[] {Integer.toString(max), "0", "1"}) {
            CliRunner.Run r = capture("--threads", ok);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("absent"), "--threads " + ok + " is accepted; the next error is the missing file: " + r.err());
        }
    }

    @ParameterizedTest(name = "--seqs {0}")
    @ValueSource(strings = {"1000", "0", "-3", "257"})
    void captureRejectsSeqCountsNamingTheValueTyped(String n) {
        // with --ctx 512 the old code capped --seqs 1000 to 512 and reported "got 512"
        assertRejected(capture("--seqs", n), "--seqs", n);
    }

    @Test
    void experimentCommandsCheckTheSameOptionsBeforeBuildingTheToyModel() {
        for (String cmd : new String[] {"france", "steer"}) {
            CliRunner.Run t = CliRunner.run(cmd, "--out", dir.resolve("out").toString(), "--threads", "10000");
            assertRejected(t, "--threads", "10000");
            CliRunner.Run s = CliRunner.run(cmd, "--out", dir.resolve("out").toString(), "--seqs", "300");
            assertRejected(s, "--seqs", "300");
        }
    }

    @Test
    void contextParamsRejectMoreThreadsThanGgmlHasRoomFor() {
        var e = assertThrows(IllegalArgumentException.class, () -> Context.Params.defaults().withThreads(10000));
        assertTrue(e.getMessage().contains("10000") && e.getMessage().contains("512"), e.getMessage());
        assertEquals(512, Context.Params.defaults().withThreads(512).nThreads());
    }
}
