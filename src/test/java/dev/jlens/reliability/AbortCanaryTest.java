package dev.jlens.reliability;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Canary for upstream behaviour: the pinned ggml aborts the whole process (SIGABRT, exit 134) on an
 * invalid tensor type instead of returning an error. This is why every input is validated in Java first
 * and why isolated mode exists; if an llama.cpp upgrade changes it, this test says so.
 */
class AbortCanaryTest {
    @Test
    void invalidGgmlTypeAbortsTheProcessWithExitCode134() throws Exception {
        Fixtures.Child c = Fixtures.runChild(AbortCanaryMain.class, Duration.ofSeconds(60), "1000000");
        assertEquals(134, c.code(), "stdout: " + c.stdout() + "\nstderr: " + c.stderr());
        assertTrue(c.stderr().contains("GGML_ASSERT(type >= 0 && type < GGML_TYPE_COUNT) failed"), c.stderr());
        assertFalse(c.stdout().contains("RETURNED"));
    }

    @Test
    void theSameCallWithAValidTypeReturnsSoTheCanaryIsNotTheHarness() throws Exception {
        Fixtures.Child c = Fixtures.runChild(AbortCanaryMain.class, Duration.ofSeconds(60), "0");
        assertEquals(0, c.code(), c.stderr());
        assertTrue(c.stdout().contains("RETURNED"), c.stdout());
    }
}
