package dev.jlens.atlas;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The atlas's accumulators for a 262k-feature SAE fit in 1 GB: every feature fired, every top-k and sample slot
 * full (the worst case, whatever the corpus size), measured as heap growth after a full GC.
 */
class FeatureStatsMemoryTest {
    @Test
    void accumulatorsOfA262kSaeFitInOneGigabyte() {
        int d = 262_144;
        long before = usedAfterGc();
        FeatureStats st = new FeatureStats(d, 20, 64);
        ContextScanner sc = new ContextScanner(st);
        // 64 contexts in which every feature fires once at a distinct value: fills every top-20 and sample-64 slot
        for (long ctx = 0; ctx < 64; ctx++) {
            for (int f = 0; f < d; f++) st.fire(f, 1f + ctx + f % 7);
            for (int f = 0; f < d; f++) st.contextMax(f, ctx, 1, 1f + ctx + f % 7);
            st.addContext(1);
        }
        long used = usedAfterGc() - before;
        assertEquals(d, st.firedFeatures().length);
        assertEquals(20, st.top(d - 1).size());
        assertEquals(64, st.sample(d - 1).size());
        System.out.printf("262k-feature accumulators, all slots full: %.1f MB (+ scanner scratch %.1f MB)%n", used / 1e6, 3.0 * 4 * d / 1e6);
        assertTrue(used < 1L << 30, "accumulators use " + used + " bytes");
        assertTrue(sc.stats() == st);
    }

    private static long usedAfterGc() {
        for (int i = 0; i < 3; i++) System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
