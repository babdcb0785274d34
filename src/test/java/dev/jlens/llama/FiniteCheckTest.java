package dev.jlens.llama;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static org.junit.jupiter.api.Assertions.*;

/** The non-finite scan that runs after every captured batch: exact first position, on awkward sizes; and its cost. */
class FiniteCheckTest {
    static final int[] SIZES = {0, 1, 13, 1023, 1024, 1025, 2305, 4096, 64 * 207};
    static final float[] BAD = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7fc00001), Float.intBitsToFloat(0xffffffff)};

    private static MemorySegment finite(Arena a, int n, long seed) {
        MemorySegment s = a.allocate(4L * Math.max(n, 1), 64);
        SplittableRandom r = new SplittableRandom(seed);
        float[] edge = {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -0f, 0f, Float.MIN_NORMAL, 1e30f};
        for (int i = 0; i < n; i++) s.setAtIndex(JAVA_FLOAT, i, i % 97 == 5 ? edge[i % edge.length] : (float) r.nextGaussian() * 5);
        return s;
    }

    @Test
    void finiteDataHasNoHitIncludingTheExtremes() {
        try (Arena a = Arena.ofConfined()) {
            for (int n : SIZES) assertEquals(-1, FiniteCheck.firstNonFinite(finite(a, n, n), n), "n=" + n);
        }
    }

    @Test
    void theFirstNonFiniteValueIsFoundExactlyWhereverItIs() {
        try (Arena a = Arena.ofConfined()) {
            for (int n : SIZES) {
                if (n == 0) continue;
                for (int at : new int[] {0, n / 2, n - 1, Math.min(n - 1, 1023), Math.min(n - 1, 1024)}) {
                    for (float bad : BAD) {
                        MemorySegment s = finite(a, n, at);
                        s.setAtIndex(JAVA_FLOAT, at, bad);
                        if (at + 1 < n) s.setAtIndex(JAVA_FLOAT, n - 1, Float.NaN); // a later one must not win
                        assertEquals(at, FiniteCheck.firstNonFinite(s, n), "n=" + n + " at=" + at + " value=" + bad);
                    }
                }
            }
        }
    }

    @Test
    void onlyTheFirstNFloatsAreScanned() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = finite(a, 3000, 1);
            s.setAtIndex(JAVA_FLOAT, 2500, Float.NaN);
            assertEquals(-1, FiniteCheck.firstNonFinite(s, 2500));
            assertEquals(2500, FiniteCheck.firstNonFinite(s, 2501));
        }
    }

    /** The cost per batch at Gemma 2 2B's shape: 2048 tokens x 2304 floats, against a decode of seconds. */
    @Test
    void aFullBatchAtTheTwoBShapeIsScannedInMilliseconds() {
        int n = 2048 * 2304;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = finite(a, n, 3);
            long best = Long.MAX_VALUE;
            for (int rep = 0; rep < 30; rep++) {
                long t0 = System.nanoTime();
                assertEquals(-1, FiniteCheck.firstNonFinite(s, n));
                best = Math.min(best, System.nanoTime() - t0);
            }
            System.out.printf("FiniteCheck: %d floats (2048 x 2304) in %.2f ms (best of 30), %.1f GB/s%n", n, best / 1e6, 4.0 * n / best);
            assertTrue(best < 200_000_000L, "scan of one 2B-shape batch took " + best / 1e6 + " ms");
        }
    }
}
