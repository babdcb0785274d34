package dev.jlens.study.steering;

import dev.jlens.toy.ToyDefault;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeEncoders;
import dev.jlens.sae.SparseCodes;
import dev.jlens.study.steering.SteeringVector.Request;
import dev.jlens.study.steering.SteeringVector.Resolution;
import dev.jlens.study.steering.SteeringVector.Strength;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class SteeringVectorTest {
    static Sae coarse, fine;
    static final SteeringVector.Typical TYPICAL = new SteeringVector.Typical(Map.of(3, 2.5), Map.of(10, 4.0), "test");

    @BeforeAll
    static void load() throws IOException {
        ToyDefault.Files f = ToyDefault.ensure(true, null);
        coarse = Sae.load(f.coarseId());
        fine = Sae.load(f.fineId());
    }

    @AfterAll
    static void close() {
        coarse.close();
        fine.close();
    }

    @Test
    void buildSumsDecoderRowsTimesAbsoluteOrRelativeStrength() {
        SteeringVector v = SteeringVector.build("x", coarse, fine, List.of(
                new Request(Resolution.COARSE, 3, Strength.times(2)), new Request(Resolution.FINE, 10, Strength.absolute(-1.5))), TYPICAL);
        float[] c = coarse.decoderRow(3), f = fine.decoderRow(10), x = v.values();
        for (int i = 0; i < x.length; i++) assertEquals(5.0 * c[i] - 1.5 * f[i], x[i], 1e-5);
        assertEquals(List.of(new SteeringVector.Term(Resolution.COARSE, 3, 5.0), new SteeringVector.Term(Resolution.FINE, 10, -1.5)), v.terms());
    }

    @Test
    void randomControlHasTheSameNormIsSeededAndPointsElsewhere() {
        SteeringVector v = SteeringVector.build("x", coarse, fine, List.of(new Request(Resolution.COARSE, 3, Strength.absolute(7))), TYPICAL);
        SteeringVector r1 = SteeringVector.randomLike("random", v, 42), r2 = SteeringVector.randomLike("random", v, 42);
        SteeringVector r3 = SteeringVector.randomLike("random", v, 43);
        assertEquals(v.norm(), r1.norm(), 1e-4);
        assertEquals(r1, r2);
        assertNotEquals(r1, r3);
        double dot = 0;
        float[] a = v.values(), b = r1.values();
        for (int i = 0; i < a.length; i++) dot += a[i] * b[i];
        assertTrue(Math.abs(dot / (v.norm() * r1.norm())) < 0.3, "a random direction in 256 dims is nearly orthogonal: cos " + dot / (v.norm() * r1.norm()));
    }

    @Test
    void deltaEqualsDecodeOfTheEditedCodeMinusDecodeOfTheCode() {
        float[] ref = new float[coarse.dIn()];
        SplittableRandom r = new SplittableRandom(5);
        float[] france = coarse.decoderRow(3);
        for (int i = 0; i < ref.length; i++) ref[i] = (float) (r.nextGaussian() * 0.5 + 6 * france[i]);
        SparseCodes code;
        try (SaeEncoder e = SaeEncoders.create(coarse, "scalar")) { code = e.encode(ref, 1); }
        SteeringVector d = SteeringVector.delta("delta", coarse, fine, ref, List.of(new SteeringVector.Clamp(Resolution.COARSE, 3, 20f)));
        // decode(f') - decode(f), literally, with b_dec and every active feature
        double[] before = decode(code.indices(0), code.values(0)), after;
        int[] idx = code.indices(0);
        float[] val = code.values(0);
        int k = java.util.Arrays.binarySearch(idx, 3);
        if (k >= 0) { val = val.clone(); val[k] = 20f; after = decode(idx, val); }
        else {
            int[] i2 = java.util.Arrays.copyOf(idx, idx.length + 1);
            float[] v2 = java.util.Arrays.copyOf(val, val.length + 1);
            i2[idx.length] = 3;
            v2[val.length] = 20f;
            after = decode(i2, v2);
        }
        float[] x = d.values();
        for (int i = 0; i < x.length; i++) assertEquals(after[i] - before[i], x[i], 1e-4);
        assertEquals(20f - code.value(0, 3), d.terms().get(0).coefficient(), 1e-5);
    }

    private static double[] decode(int[] idx, float[] val) {
        double[] out = new double[coarse.dIn()];
        for (int i = 0; i < out.length; i++) out[i] = coarse.bDec().getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
        for (int j = 0; j < idx.length; j++) {
            float[] row = coarse.decoderRow(idx[j]);
            for (int i = 0; i < out.length; i++) out[i] += val[j] * row[i];
        }
        return out;
    }

    @Test
    void unknownFeaturesMissingTypicalActivationsAndWrongLengthsAreRejected() {
        var e = assertThrows(IllegalArgumentException.class, () -> SteeringVector.build("x", coarse, fine,
                List.of(new Request(Resolution.COARSE, 512, Strength.absolute(1))), TYPICAL));
        assertEquals("coarse SAE feature 512 is out of range [0, 512)", e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> SteeringVector.build("x", coarse, fine,
                List.of(new Request(Resolution.FINE, 11, Strength.times(2))), TYPICAL));
        assertTrue(e2.getMessage().contains("fine feature 11 has no typical activation"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> SteeringVector.delta("d", coarse, fine, new float[7],
                List.of(new SteeringVector.Clamp(Resolution.COARSE, 3, 1f))));
        assertTrue(e3.getMessage().contains("reference activation has 7 values"), e3.getMessage());
        SteeringVector v = new SteeringVector("v", new float[13], List.of());
        var e4 = assertThrows(IllegalArgumentException.class, () -> v.requireLength(256));
        assertTrue(e4.getMessage().contains("has 13 values, the model's d_model is 256"), e4.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SteeringVector("nan", new float[] {Float.NaN}, List.of()));
        assertThrows(IllegalArgumentException.class, () -> SteeringVector.build("x", coarse, fine, List.of(), TYPICAL));
    }
}
