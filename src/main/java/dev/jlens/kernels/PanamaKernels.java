package dev.jlens.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels (jdk.incubator.vector). Only ever instantiated by name from {@link KernelProvider},
 * so the rest of the engine loads without the incubator module. Vectorises along d_sae (W rows are
 * contiguous there); tails narrower than a vector run the scalar loop with {@link Math#fma} so the
 * rounding matches the vector lanes.
 */
final class PanamaKernels implements Kernels {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    // bf16 lanes: as many shorts as there are float lanes, i.e. half the bit width
    private static final VectorSpecies<Short> SS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(FS.vectorBitSize() / 2));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final int L = FS.length();
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;

    PanamaKernels() {
        if (L < 4) throw new UnsupportedOperationException("preferred float vector has only " + L + " lanes");
    }

    @Override
    public String name() { return "panama(" + FS.vectorBitSize() + "-bit)"; }

    @Override
    public float dot(float[] a, float[] b, int n) {
        FloatVector acc = FloatVector.zero(FS);
        int i = 0, end = FS.loopBound(n);
        for (; i < end; i += L) acc = FloatVector.fromArray(FS, a, i).fma(FloatVector.fromArray(FS, b, i), acc);
        // the lanes summed in lane order: reduceLanes(ADD) leaves the order open, and interpreted and JIT-compiled
        // code used different orders (42 of 64 dots of length 2304 changed their last bits after warm-up), which
        // made the same logit lens differ between a cold and a warm JVM
        float s = 0f;
        for (int j = 0; j < L; j++) s += acc.lane(j);
        for (; i < n; i++) s = Math.fma(a[i], b[i], s);
        return s;
    }

    private static FloatVector load(Weights w, long elem) {
        MemorySegment seg = w.data();
        if (w.format() == WeightFormat.F32) return FloatVector.fromMemorySegment(FS, seg, elem * 4, LE);
        ShortVector s = ShortVector.fromMemorySegment(SS, seg, elem * 2, LE);
        // sign-extending widen is fine: the shift drops the upper 16 bits again
        return ((IntVector) s.convertShape(VectorOperators.S2I, IS, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** Per-thread buffer for the packed (f32) W panel of the tile being encoded; grown on demand, never shrunk. */
    private static final ThreadLocal<float[][]> PANEL = ThreadLocal.withInitial(() -> new float[1][]);

    private static float[] panel(long floats) {
        if (floats > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("tile too large to pack: " + floats + " floats");
        float[][] h = PANEL.get();
        if (h[0] == null || h[0].length < floats) h[0] = new float[(int) Math.max(floats, 1 << 14)];
        return h[0];
    }

    @Override
    public void encodeTile(float[] x, int nTokens, Weights w, MemorySegment bias, MemorySegment threshold,
                           int c0, int c1, float[] acc, ActiveBuffer out) {
        int dIn = w.rows(), tw = c1 - c0;
        long dSae = w.cols();
        int vEnd = FS.loopBound(tw);
        int v2End = vEnd / (2 * L) * (2 * L);
        // Pack the tile's W columns [c0, c0+v2End) into 2-vector strips, each [d_in x 2L] contiguous f32 (bf16
        // widened once here, exactly). Read in place, a strip is d_in cache lines d_sae*eb bytes apart: every
        // k step touches a new page, on each of the nTokens/4 passes. Packed, the micro-kernels stream it from
        // a heap array, and a strip (d_in x 2L floats, ~147 KiB at 256 bits) stays in L2 while every token
        // group reuses it. Values, and so results, are unchanged.
        int strips = v2End / (2 * L);
        int stripElems = dIn * 2 * L;
        float[] p = strips > 0 ? panel((long) strips * stripElems) : null;
        for (int k = 0; k < dIn; k++) {
            long row = (long) k * dSae + c0;
            int to = k * 2 * L;
            for (int st = 0; st < strips; st++) {
                long e = row + (long) st * 2 * L;
                int o = st * stripElems + to;
                load(w, e).intoArray(p, o);
                load(w, e + L).intoArray(p, o + L);
            }
        }
        // register-blocked: each output is a k-ascending chain of fmas starting from 0, whichever path
        // computes it, so the blocking changes speed, not results.
        for (int st = 0; st < strips; st++) {
            int j = st * 2 * L;
            int base = st * stripElems;
            int t = 0;
            for (; t + 6 <= nTokens; t += 6) micro6x2(x, dIn, t, p, base, acc, tw, j);
            for (; t < nTokens; t++) micro1x2(x, dIn, t, p, base, acc, tw, j);
        }
        for (int j = v2End; j < vEnd; j += L)
            for (int t = 0; t < nTokens; t++) {
                FloatVector a = FloatVector.zero(FS);
                int xo = t * dIn;
                for (int k = 0; k < dIn; k++) a = load(w, k * dSae + c0 + j).fma(FloatVector.broadcast(FS, x[xo + k]), a);
                a.intoArray(acc, t * tw + j);
            }
        for (int j = vEnd; j < tw; j++)
            for (int t = 0; t < nTokens; t++) {
                float a = 0f;
                int xo = t * dIn;
                for (int k = 0; k < dIn; k++) a = Math.fma(x[xo + k], w.get(k, c0 + j), a);
                acc[t * tw + j] = a;
            }
        for (int t = 0; t < nTokens; t++) {
            int base = t * tw;
            for (int j = 0; j < vEnd; j += L) {
                FloatVector pre = FloatVector.fromArray(FS, acc, base + j)
                        .add(FloatVector.fromMemorySegment(FS, bias, (long) (c0 + j) * 4, LE));
                VectorMask<Float> on = pre.compare(VectorOperators.GT, FloatVector.fromMemorySegment(FS, threshold, (long) (c0 + j) * 4, LE));
                if (on.anyTrue()) {
                    for (int lane = on.firstTrue(); lane < L; lane++) {
                        if (on.laneIsSet(lane)) out.add(t, c0 + j + lane, pre.lane(lane));
                    }
                }
            }
            for (int j = vEnd; j < tw; j++) {
                float pre = acc[base + j] + Weights.f32(bias, c0 + j);
                if (pre > Weights.f32(threshold, c0 + j)) out.add(t, c0 + j, pre);
            }
        }
    }

    /**
     * 6 tokens x 2 vectors of one packed strip: 12 accumulators + 2 weight vectors + 1 broadcast fit the 16
     * registers of AVX2, and each k step does 12 FMAs for 2 weight loads and 6 broadcasts.
     */
    private static void micro6x2(float[] x, int dIn, int t0, float[] p, int base, float[] acc, int tw, int j) {
        FloatVector a00 = FloatVector.zero(FS), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
                a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        int x0 = t0 * dIn, x1 = x0 + dIn, x2 = x1 + dIn, x3 = x2 + dIn, x4 = x3 + dIn, x5 = x4 + dIn;
        int e = base;
        for (int k = 0; k < dIn; k++, e += 2 * L) {
            FloatVector w0 = FloatVector.fromArray(FS, p, e), w1 = FloatVector.fromArray(FS, p, e + L);
            FloatVector b = FloatVector.broadcast(FS, x[x0 + k]);
            a00 = w0.fma(b, a00);
            a01 = w1.fma(b, a01);
            b = FloatVector.broadcast(FS, x[x1 + k]);
            a10 = w0.fma(b, a10);
            a11 = w1.fma(b, a11);
            b = FloatVector.broadcast(FS, x[x2 + k]);
            a20 = w0.fma(b, a20);
            a21 = w1.fma(b, a21);
            b = FloatVector.broadcast(FS, x[x3 + k]);
            a30 = w0.fma(b, a30);
            a31 = w1.fma(b, a31);
            b = FloatVector.broadcast(FS, x[x4 + k]);
            a40 = w0.fma(b, a40);
            a41 = w1.fma(b, a41);
            b = FloatVector.broadcast(FS, x[x5 + k]);
            a50 = w0.fma(b, a50);
            a51 = w1.fma(b, a51);
        }
        int o = t0 * tw + j;
        a00.intoArray(acc, o);
        a01.intoArray(acc, o + L);
        a10.intoArray(acc, o + tw);
        a11.intoArray(acc, o + tw + L);
        a20.intoArray(acc, o + 2 * tw);
        a21.intoArray(acc, o + 2 * tw + L);
        a30.intoArray(acc, o + 3 * tw);
        a31.intoArray(acc, o + 3 * tw + L);
        a40.intoArray(acc, o + 4 * tw);
        a41.intoArray(acc, o + 4 * tw + L);
        a50.intoArray(acc, o + 5 * tw);
        a51.intoArray(acc, o + 5 * tw + L);
    }

    private static void micro1x2(float[] x, int dIn, int t, float[] p, int base, float[] acc, int tw, int j) {
        FloatVector a0 = FloatVector.zero(FS), a1 = a0;
        int xo = t * dIn;
        int e = base;
        for (int k = 0; k < dIn; k++, e += 2 * L) {
            FloatVector b = FloatVector.broadcast(FS, x[xo + k]);
            a0 = FloatVector.fromArray(FS, p, e).fma(b, a0);
            a1 = FloatVector.fromArray(FS, p, e + L).fma(b, a1);
        }
        a0.intoArray(acc, t * tw + j);
        a1.intoArray(acc, t * tw + j + L);
    }

    @Override
    public void decode(int[] indices, float[] values, int off, int n, Weights w, MemorySegment bias, float[] out) {
        int dIn = w.cols();
        int vEnd = FS.loopBound(dIn);
        int d = 0;
        for (; d < vEnd; d += L) FloatVector.fromMemorySegment(FS, bias, (long) d * 4, LE).intoArray(out, d);
        for (; d < dIn; d++) out[d] = Weights.f32(bias, d);
        for (int j = 0; j < n; j++) {
            int f = indices[off + j];
            float v = values[off + j];
            FloatVector vv = FloatVector.broadcast(FS, v);
            long row = (long) f * dIn;
            for (d = 0; d < vEnd; d += L) vv.fma(load(w, row + d), FloatVector.fromArray(FS, out, d)).intoArray(out, d);
            for (; d < dIn; d++) out[d] = Math.fma(v, w.get(f, d), out[d]);
        }
    }

    @Override
    public void sparseRowSum(int[] rows, float[] values, int count, double[] labels, int stride, double[] acc, int n) {
        int dl = DS.length(), end = DS.loopBound(n);
        for (int k = 0; k < count; k++) {
            double v = values[k];
            DoubleVector vv = DoubleVector.broadcast(DS, v);
            int base = rows[k] * stride;
            int p = 0;
            for (; p < end; p += dl) {
                DoubleVector.fromArray(DS, labels, base + p).fma(vv, DoubleVector.fromArray(DS, acc, p)).intoArray(acc, p);
            }
            for (; p < n; p++) acc[p] += v * labels[base + p];
        }
    }
}
