package dev.jlens.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
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
        float s = acc.reduceLanes(VectorOperators.ADD);
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

    @Override
    public void encodeTile(float[] x, int nTokens, Weights w, MemorySegment bias, MemorySegment threshold,
                           int c0, int c1, float[] acc, ActiveBuffer out) {
        int dIn = w.rows(), tw = c1 - c0;
        long dSae = w.cols();
        Arrays.fill(acc, 0, nTokens * tw, 0f);
        int vEnd = FS.loopBound(tw);
        for (int k = 0; k < dIn; k++) {
            long row = k * dSae + c0;
            for (int j = 0; j < vEnd; j += L) {
                FloatVector wv = load(w, row + j);
                for (int t = 0; t < nTokens; t++) {
                    int a = t * tw + j;
                    FloatVector.broadcast(FS, x[t * dIn + k]).fma(wv, FloatVector.fromArray(FS, acc, a)).intoArray(acc, a);
                }
            }
            for (int j = vEnd; j < tw; j++) {
                float wk = w.get(k, c0 + j);
                for (int t = 0; t < nTokens; t++) acc[t * tw + j] = Math.fma(x[t * dIn + k], wk, acc[t * tw + j]);
            }
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
}
