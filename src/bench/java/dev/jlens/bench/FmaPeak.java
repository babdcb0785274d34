package dev.jlens.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's measured FMA peak through the Vector API: a register-only loop with ten independent
 * accumulator chains (enough to hide FMA latency on two FMA ports), run on {@code threads} threads at once.
 * 2 FLOP per lane per FMA. This is the ceiling the SAE encoders are compared against.
 */
public final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 10;

    private FmaPeak() {}

    public static int lanes() { return S.length(); }

    /** Runs {@code iterations} rounds of CHAINS FMAs per thread; returns total GFLOP/s over the wall time. */
    public static double gflops(int threads, long iterations) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1: " + threads);
        if (iterations < 1) throw new IllegalArgumentException("iterations must be >= 1: " + iterations);
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Callable<Float>> work = new ArrayList<>();
            for (int t = 0; t < threads; t++) work.add(() -> loop(iterations));
            long t0 = System.nanoTime();
            float sink = 0;
            for (Future<Float> f : pool.invokeAll(work)) sink += f.get();
            long ns = System.nanoTime() - t0;
            // the sum is consumed so the JIT cannot drop the loop
            if (Float.isNaN(sink)) throw new IllegalStateException("FMA loop produced NaN");
            double flops = 2.0 * CHAINS * S.length() * iterations * threads;
            return flops / ns;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("FMA loop failed", e.getCause());
        }
    }

    /** Scalar twin of one chain of {@link #loop}: the value every lane of every accumulator ends at. */
    static float scalarChain(long iterations) {
        float a = 1f;
        for (long i = 0; i < iterations; i++) a = Math.fma(a, 0.9999999f, 1e-7f);
        return a;
    }

    /** Returns the sum of all lanes of all accumulators (each lane equals {@link #scalarChain}). */
    static float loop(long iterations) {
        float[] acc = new float[CHAINS * S.length()];
        java.util.Arrays.fill(acc, 1f);
        // short int-counted calls get a normal C2 compile with the vectors in registers; one long-counted
        // loop would run through OSR, where the Vector API may box every intermediate
        for (long done = 0; done < iterations; done += BLOCK) kernel(acc, (int) Math.min(BLOCK, iterations - done));
        float sum = 0;
        for (float v : acc) sum += v;
        return sum;
    }

    private static final int BLOCK = 4096;

    private static void kernel(float[] acc, int n) {
        int l = S.length();
        FloatVector m = FloatVector.broadcast(S, 0.9999999f), c = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.fromArray(S, acc, 0), a1 = FloatVector.fromArray(S, acc, l), a2 = FloatVector.fromArray(S, acc, 2 * l),
                a3 = FloatVector.fromArray(S, acc, 3 * l), a4 = FloatVector.fromArray(S, acc, 4 * l), a5 = FloatVector.fromArray(S, acc, 5 * l),
                a6 = FloatVector.fromArray(S, acc, 6 * l), a7 = FloatVector.fromArray(S, acc, 7 * l), a8 = FloatVector.fromArray(S, acc, 8 * l),
                a9 = FloatVector.fromArray(S, acc, 9 * l);
        for (int i = 0; i < n; i++) {
            a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c); a4 = a4.fma(m, c);
            a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c); a8 = a8.fma(m, c); a9 = a9.fma(m, c);
        }
        a0.intoArray(acc, 0); a1.intoArray(acc, l); a2.intoArray(acc, 2 * l); a3.intoArray(acc, 3 * l); a4.intoArray(acc, 4 * l);
        a5.intoArray(acc, 5 * l); a6.intoArray(acc, 6 * l); a7.intoArray(acc, 7 * l); a8.intoArray(acc, 8 * l); a9.intoArray(acc, 9 * l);
    }
}
