package dev.jlens.kernels;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * JMH benchmarks of the SAE kernels (scripts/jmh.sh runs them; not part of the tests): the fused JumpReLU
 * tile encode over one 512-column tile of a d_in=2304 SAE, f32 and bf16 weights, Vector API vs scalar twin,
 * and the dot product. Score: operations per second; FLOPs per tile op = 2 x tokens x 2304 x 512.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class KernelBenchmarks {
    static final int D_IN = 2304, TILE = 512;

    @Param({"vector", "scalar"}) String kernel;
    @Param({"F32", "BF16"}) String format;
    @Param({"8", "32", "256"}) int tokens;
    /** Width of the whole W_enc the tile is cut from: its row stride (Gemma Scope 16k; 512 = a tile-wide toy). */
    @Param({"16384"}) int dSae;

    Kernels k;
    Arena arena;
    Weights w;
    MemorySegment bias, threshold;
    float[] x, acc, a, b;

    @Setup(Level.Trial)
    public void setUp() {
        k = kernel.equals("vector") ? KernelProvider.vector().orElseThrow() : KernelProvider.scalar();
        arena = Arena.ofShared();
        WeightFormat fmt = WeightFormat.valueOf(format);
        SplittableRandom r = new SplittableRandom(1);
        MemorySegment data = arena.allocate((long) D_IN * dSae * fmt.bytes, 64);
        for (long i = 0; i < (long) D_IN * dSae; i++) {
            float v = (float) (r.nextDouble() * 2 - 1) / 48f;
            if (fmt == WeightFormat.F32) data.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
            else data.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, WeightFormat.toBf16(v));
        }
        w = new Weights(data, fmt, D_IN, dSae);
        bias = arena.allocate(4L * TILE, 64);
        threshold = arena.allocate(4L * TILE, 64);
        for (int c = 0; c < TILE; c++) threshold.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, c, 0.5f);
        x = new float[tokens * D_IN];
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        acc = new float[tokens * TILE];
        a = x;
        b = new float[x.length];
        System.arraycopy(x, 0, b, 0, x.length);
    }

    @TearDown(Level.Trial)
    public void tearDown() { arena.close(); }

    @Benchmark
    public Object encodeTile() {
        ActiveBuffer active = new ActiveBuffer(tokens);
        k.encodeTile(x, tokens, w, bias, threshold, 0, TILE, acc, active);
        return active;
    }

    @Benchmark
    public float dot() {
        return k.dot(a, b, D_IN);
    }
}
