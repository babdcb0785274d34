package dev.jlens.study.steering;

import dev.jlens.api.EncoderKind;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SparseCodes;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A direction added to the residual stream, with how it was made: a weighted sum of SAE decoder rows
 * ({@link #build}), a seeded random direction of equal norm ({@link #randomLike}), or an SAE-space edit of a
 * reference activation ({@link #delta}).
 *
 * @param label  condition name, e.g. "coarse" or "random"
 * @param values the vector, length d_model
 * @param terms  the decoder rows it sums and their coefficients (empty for a random control)
 */
public record SteeringVector(String label, float[] values, List<Term> terms) {
    public enum Resolution { COARSE, FINE }

    /** {@code coefficient} x the decoder row of {@code feature} of one SAE. */
    public record Term(Resolution sae, int feature, double coefficient) {
        public Term {
            Objects.requireNonNull(sae, "sae");
            if (feature < 0) throw new IllegalArgumentException("feature index must be >= 0, got " + feature);
            if (!Double.isFinite(coefficient)) throw new IllegalArgumentException("coefficient of " + sae + " feature " + feature + " is " + coefficient);
        }
    }

    /**
     * How hard to push one feature: {@code value} in activation units, or, when {@code relative}, a multiple of
     * the feature's typical activation (see {@link Typical}).
     */
    public record Strength(double value, boolean relative) {
        public Strength {
            if (!Double.isFinite(value)) throw new IllegalArgumentException("strength must be finite, got " + value);
        }

        public static Strength absolute(double v) { return new Strength(v, false); }

        public static Strength times(double multiple) { return new Strength(multiple, true); }
    }

    public record Request(Resolution sae, int feature, Strength strength) {
        public Request {
            Objects.requireNonNull(sae, "sae");
            Objects.requireNonNull(strength, "strength");
        }
    }

    /**
     * Typical activation per feature: results.json's {@code meanTarget} (the feature's mean over the France
     * prompts of its per-prompt aggregate, max by default), the value the feature reaches on the concept.
     */
    public record Typical(Map<Integer, Double> coarse, Map<Integer, Double> fine, String source) {
        public Typical {
            // sorted, so steering.json lists them in the same order in every JVM
            coarse = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(coarse));
            fine = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(fine));
            Objects.requireNonNull(source, "source");
        }

        public double of(Resolution r, int feature) {
            Double v = (r == Resolution.COARSE ? coarse : fine).get(feature);
            if (v == null) {
                throw new IllegalArgumentException(r.name().toLowerCase(java.util.Locale.ROOT) + " feature " + feature
                        + " has no typical activation in " + source + ": give its strength in absolute units");
            }
            if (!(v > 0) || !Double.isFinite(v)) {
                throw new IllegalArgumentException(r.name().toLowerCase(java.util.Locale.ROOT) + " feature " + feature
                        + " has typical activation " + v + " in " + source + ": a relative strength needs a positive one");
            }
            return v;
        }
    }

    /** A clamped feature for {@link #delta}: its code is set to {@code value}. */
    public record Clamp(Resolution sae, int feature, float value) {
        public Clamp {
            Objects.requireNonNull(sae, "sae");
            if (!Float.isFinite(value) || value < 0) throw new IllegalArgumentException("clamp value of " + sae + " feature " + feature + " must be finite and >= 0, got " + value);
        }
    }

    public SteeringVector {
        Objects.requireNonNull(label, "label");
        values = Objects.requireNonNull(values, "values").clone();
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) throw new IllegalArgumentException("steering vector '" + label + "'[" + i + "] is " + values[i]);
        }
        terms = List.copyOf(terms);
    }

    @Override public float[] values() { return values.clone(); }

    public int length() { return values.length; }

    public double norm() {
        double s = 0;
        for (float v : values) s += (double) v * v;
        return Math.sqrt(s);
    }

    /** This vector times {@code k} (terms scaled alike). */
    public SteeringVector scaled(double k) {
        float[] v = new float[values.length];
        for (int i = 0; i < v.length; i++) v[i] = (float) (values[i] * k);
        return new SteeringVector(label, v, terms.stream().map(t -> new Term(t.sae(), t.feature(), t.coefficient() * k)).toList());
    }

    /** Throws unless this vector can steer a residual stream of width {@code dModel}. */
    public void requireLength(int dModel) {
        if (values.length != dModel) {
            throw new IllegalArgumentException("steering vector '" + label + "' has " + values.length + " values, the model's d_model is " + dModel);
        }
    }

    /** Σ coefficient_i · decoder row_i over the requests, each strength resolved against {@code typical}. */
    public static SteeringVector build(String label, Sae coarse, Sae fine, List<Request> requests, Typical typical) {
        Objects.requireNonNull(requests, "requests");
        if (requests.isEmpty()) throw new IllegalArgumentException("steering vector '" + label + "' has no terms");
        int d = coarse.dIn();
        if (fine.dIn() != d) throw new IllegalArgumentException("coarse SAE d_in " + d + " differs from fine SAE d_in " + fine.dIn());
        double[] acc = new double[d];
        List<Term> terms = new ArrayList<>();
        for (Request r : requests) {
            Sae sae = r.sae() == Resolution.COARSE ? coarse : fine;
            checkFeature(sae, r.sae(), r.feature());
            double c = r.strength().relative() ? r.strength().value() * typical.of(r.sae(), r.feature()) : r.strength().value();
            float[] row = sae.decoderRow(r.feature());
            for (int i = 0; i < d; i++) acc[i] += c * row[i];
            terms.add(new Term(r.sae(), r.feature(), c));
        }
        return new SteeringVector(label, toFloat(acc), terms);
    }

    /**
     * A seeded Gaussian direction (isotropic, not orthogonalised against anything) rescaled to {@code like}'s
     * L2 norm: the control that moves the residual as far without pointing at the concept.
     */
    public static SteeringVector randomLike(String label, SteeringVector like, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] g = new double[like.length()];
        double s = 0;
        for (int i = 0; i < g.length; i++) {
            g[i] = gaussian(r);
            s += g[i] * g[i];
        }
        double k = like.norm() / Math.sqrt(s);
        for (int i = 0; i < g.length; i++) g[i] *= k;
        return new SteeringVector(label, toFloat(g), List.of());
    }

    /**
     * decode(f') − decode(f), where f is the SAE code of {@code reference} (one residual vector) and f' is f with
     * the clamped features set to their values. b_dec and every unclamped term cancel, so this is
     * Σ (value_i − f_i) · decoder row_i: the SAE's reconstruction error of the reference never enters.
     * Clamps may name features of both SAEs; each SAE encodes the reference on its own.
     */
    public static SteeringVector delta(String label, Sae coarse, Sae fine, float[] reference, List<Clamp> clamps) {
        Objects.requireNonNull(reference, "reference");
        if (clamps.isEmpty()) throw new IllegalArgumentException("delta vector '" + label + "' clamps no feature");
        if (reference.length != coarse.dIn()) {
            throw new IllegalArgumentException("reference activation has " + reference.length + " values, the SAE d_in is " + coarse.dIn());
        }
        if (fine.dIn() != coarse.dIn()) throw new IllegalArgumentException("coarse SAE d_in " + coarse.dIn() + " differs from fine SAE d_in " + fine.dIn());
        double[] acc = new double[reference.length];
        List<Term> terms = new ArrayList<>();
        SparseCodes[] codes = new SparseCodes[2];
        for (Clamp c : clamps) {
            Sae sae = c.sae() == Resolution.COARSE ? coarse : fine;
            checkFeature(sae, c.sae(), c.feature());
            int k = c.sae().ordinal();
            if (codes[k] == null) {
                // the scalar encoder is the reference implementation: the edit is computed once, exactness beats speed
                try (SaeEncoder enc = sae.encoder(EncoderKind.SCALAR)) {
                    codes[k] = enc.encode(reference, 1);
                }
            }
            double coefficient = c.value() - codes[k].value(0, c.feature());
            float[] row = sae.decoderRow(c.feature());
            for (int i = 0; i < acc.length; i++) acc[i] += coefficient * row[i];
            terms.add(new Term(c.sae(), c.feature(), coefficient));
        }
        return new SteeringVector(label, toFloat(acc), terms);
    }

    private static void checkFeature(Sae sae, Resolution r, int feature) {
        if (feature < 0 || feature >= sae.dSae()) {
            throw new IllegalArgumentException(r.name().toLowerCase(java.util.Locale.ROOT) + " SAE feature " + feature
                    + " is out of range [0, " + sae.dSae() + ")");
        }
    }

    private static double gaussian(SplittableRandom r) {
        // Box–Muller on SplittableRandom: seeded and identical on every JVM (unlike ThreadLocalRandom)
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    @Override public boolean equals(Object o) {
        return o instanceof SteeringVector v && label.equals(v.label) && java.util.Arrays.equals(values, v.values) && terms.equals(v.terms);
    }

    @Override public int hashCode() { return Objects.hash(label, java.util.Arrays.hashCode(values), terms); }

    @Override public String toString() { return "SteeringVector[" + label + ", norm " + norm() + ", " + terms.size() + " terms]"; }
}
