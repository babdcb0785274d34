package dev.jlens.atlas;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Streaming, mergeable per-feature statistics of one SAE over a corpus (the atlas's accumulator, written the
 * DataSketches way: one {@link #merge}, one {@link #write}/{@link #read}, and any split of the input merges to
 * the same bytes). Per feature: firing count, max, an exact sum of firing activations (fixed point, so addition
 * is associative), a histogram over the shared {@link ActivationBins}, the top-k contexts by their maximum
 * activation of the feature (order: value desc, context id asc, position asc; each context at most once), and a
 * deterministic uniform sample of firing contexts (the {@code sampleSize} smallest {@link #hash(long)} of the
 * context id, ties by id) from which the quantile examples are drawn. Per-feature state is allocated on the
 * feature's first firing, so a partial over a small shard stays small. Not thread-safe.
 */
public final class FeatureStats {
    private static final int MAGIC = 0x4A4C4154; // "JLAT"
    private static final int VERSION = 1;
    /** Fixed-point scale of the sums: each activation is rounded once to a multiple of 2^-32. */
    private static final double SCALE = 0x1p32;

    private final int dSae;
    private final int topK;
    private final int sampleSize;
    private final State[] states;
    private long tokens;
    private long contexts;

    /** One feature's state; arrays sized topK / sampleSize. */
    private static final class State {
        long fires;
        float max;
        long sumHi, sumLo;
        final long[] hist = new long[ActivationBins.COUNT];
        int nTop;
        final float[] topVal;
        final long[] topCtx;
        final int[] topPos;
        int nSample;
        final long[] sCtx;
        final int[] sPos;
        final float[] sVal;

        State(int topK, int sampleSize) {
            topVal = new float[topK];
            topCtx = new long[topK];
            topPos = new int[topK];
            sCtx = new long[sampleSize];
            sPos = new int[sampleSize];
            sVal = new float[sampleSize];
        }
    }

    /** A (context, position, value) triple: where a feature reached its maximum within one context. */
    public record Example(long context, int position, float value) {}

    public FeatureStats(int dSae, int topK, int sampleSize) {
        if (dSae < 1) throw new IllegalArgumentException("d_sae must be >= 1, got " + dSae);
        if (topK < 1 || topK > 10_000) throw new IllegalArgumentException("top-k must be in [1, 10000], got " + topK);
        if (sampleSize < 0 || sampleSize > 10_000) throw new IllegalArgumentException("sample size must be in [0, 10000], got " + sampleSize);
        this.dSae = dSae;
        this.topK = topK;
        this.sampleSize = sampleSize;
        this.states = new State[dSae];
    }

    public int dSae() { return dSae; }
    public int topK() { return topK; }
    public int sampleSize() { return sampleSize; }
    /** Non-BOS tokens scanned. */
    public long tokens() { return tokens; }
    /** Contexts scanned. */
    public long contexts() { return contexts; }

    /** Counts scanned tokens (non-BOS) and one context. */
    public void addContext(int nonBosTokens) {
        if (nonBosTokens < 0) throw new IllegalArgumentException("negative token count");
        tokens += nonBosTokens;
        contexts++;
    }

    private State state(int f) {
        State s = states[f];
        if (s == null) states[f] = s = new State(topK, sampleSize);
        return s;
    }

    /** One firing token of feature f with activation v (> 0, finite). */
    public void fire(int f, float v) {
        if (!(v > 0f) || v >= 0x1p31f) throw new IllegalArgumentException("feature " + f + ": activation " + v + " outside (0, 2^31)");
        State s = state(f);
        s.fires++;
        if (v > s.max) s.max = v;
        addSum(s, Math.round(v * SCALE));
        s.hist[ActivationBins.bin(v)]++;
    }

    private static void addSum(State s, long x) {
        long lo = s.sumLo + x;
        long carry = Long.compareUnsigned(lo, s.sumLo) < 0 ? 1 : 0;
        s.sumLo = lo;
        s.sumHi += carry;
    }

    /**
     * Feature f's maximum within one context (call once per feature per context, after its tokens were
     * {@link #fire fired}): offered to the top-k and to the sample.
     */
    public void contextMax(int f, long context, int position, float value) {
        State s = states[f];
        if (s == null) throw new IllegalStateException("feature " + f + " has a context max but never fired");
        offerTop(s, context, position, value);
        offerSample(s, context, position, value);
    }

    /** Order of the top list: value desc, context asc, position asc. Negative when a ranks first. */
    private static int compareTop(float va, long ca, int pa, float vb, long cb, int pb) {
        int c = Float.compare(vb, va);
        if (c != 0) return c;
        c = Long.compare(ca, cb);
        return c != 0 ? c : Integer.compare(pa, pb);
    }

    private void offerTop(State s, long ctx, int pos, float v) {
        int n = s.nTop;
        if (n == topK && compareTop(v, ctx, pos, s.topVal[n - 1], s.topCtx[n - 1], s.topPos[n - 1]) >= 0) return;
        int i = n == topK ? n - 1 : n;
        while (i > 0 && compareTop(v, ctx, pos, s.topVal[i - 1], s.topCtx[i - 1], s.topPos[i - 1]) < 0) {
            s.topVal[i] = s.topVal[i - 1];
            s.topCtx[i] = s.topCtx[i - 1];
            s.topPos[i] = s.topPos[i - 1];
            i--;
        }
        s.topVal[i] = v;
        s.topCtx[i] = ctx;
        s.topPos[i] = pos;
        if (n < topK) s.nTop = n + 1;
    }

    /** Order of the sample: hash asc, context asc. */
    private static int compareSample(long ca, long cb) {
        int c = Long.compareUnsigned(hash(ca), hash(cb));
        return c != 0 ? c : Long.compare(ca, cb);
    }

    private void offerSample(State s, long ctx, int pos, float v) {
        if (sampleSize == 0) return;
        int n = s.nSample;
        if (n == sampleSize && compareSample(ctx, s.sCtx[n - 1]) >= 0) return;
        int i = n == sampleSize ? n - 1 : n;
        while (i > 0 && compareSample(ctx, s.sCtx[i - 1]) < 0) {
            s.sCtx[i] = s.sCtx[i - 1];
            s.sPos[i] = s.sPos[i - 1];
            s.sVal[i] = s.sVal[i - 1];
            i--;
        }
        s.sCtx[i] = ctx;
        s.sPos[i] = pos;
        s.sVal[i] = v;
        if (n < sampleSize) s.nSample = n + 1;
    }

    /** The sample's hash of a context id (SplitMix64's finaliser: fixed, platform-independent). */
    public static long hash(long context) {
        long z = context + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Adds another partial (over disjoint contexts) into this one. Associative and commutative. */
    public void merge(FeatureStats o) {
        if (o.dSae != dSae || o.topK != topK || o.sampleSize != sampleSize) {
            throw new IllegalArgumentException("cannot merge stats of d_sae/top-k/sample " + o.dSae + "/" + o.topK + "/" + o.sampleSize
                    + " into " + dSae + "/" + topK + "/" + sampleSize);
        }
        tokens += o.tokens;
        contexts += o.contexts;
        for (int f = 0; f < dSae; f++) {
            State b = o.states[f];
            if (b == null) continue;
            State a = state(f);
            a.fires += b.fires;
            if (b.max > a.max) a.max = b.max;
            long lo = a.sumLo + b.sumLo;
            long carry = Long.compareUnsigned(lo, a.sumLo) < 0 ? 1 : 0;
            a.sumLo = lo;
            a.sumHi += b.sumHi + carry;
            for (int i = 0; i < a.hist.length; i++) a.hist[i] += b.hist[i];
            for (int i = 0; i < b.nTop; i++) offerTop(a, b.topCtx[i], b.topPos[i], b.topVal[i]);
            for (int i = 0; i < b.nSample; i++) offerSample(a, b.sCtx[i], b.sPos[i], b.sVal[i]);
        }
    }

    public long fires(int f) { State s = states[f]; return s == null ? 0 : s.fires; }
    public float max(int f) { State s = states[f]; return s == null ? 0f : s.max; }

    /** Mean activation over firing tokens (0 when the feature never fired), from the exact fixed-point sum. */
    public double mean(int f) {
        State s = states[f];
        if (s == null || s.fires == 0) return 0.0;
        double sum = s.sumHi * 0x1p64 + unsignedToDouble(s.sumLo);
        return sum / SCALE / s.fires;
    }

    private static double unsignedToDouble(long x) {
        double d = (double) (x >>> 1) * 2.0;
        return d + (x & 1);
    }

    /** Feature f's histogram over {@link ActivationBins} (a copy). */
    public long[] histogram(int f) {
        State s = states[f];
        return s == null ? new long[ActivationBins.COUNT] : s.hist.clone();
    }

    /** The top contexts, best first. */
    public List<Example> top(int f) {
        State s = states[f];
        List<Example> out = new ArrayList<>();
        if (s != null) for (int i = 0; i < s.nTop; i++) out.add(new Example(s.topCtx[i], s.topPos[i], s.topVal[i]));
        return out;
    }

    /** The sampled contexts, in sample order (hash asc). */
    public List<Example> sample(int f) {
        State s = states[f];
        List<Example> out = new ArrayList<>();
        if (s != null) for (int i = 0; i < s.nSample; i++) out.add(new Example(s.sCtx[i], s.sPos[i], s.sVal[i]));
        return out;
    }

    /**
     * Quantile examples: {@code intervals} equal-width intervals of [0, max] (the last one closed), each with up
     * to {@code perInterval} examples taken from the sample in sample order. Returns one list per interval.
     */
    public List<List<Example>> quantiles(int f, int intervals, int perInterval) {
        if (intervals < 1) throw new IllegalArgumentException("intervals must be >= 1");
        List<List<Example>> out = new ArrayList<>();
        for (int j = 0; j < intervals; j++) out.add(new ArrayList<>());
        State s = states[f];
        if (s == null || s.max <= 0f) return out;
        for (int i = 0; i < s.nSample; i++) {
            int j = interval(s.sVal[i], s.max, intervals);
            if (out.get(j).size() < perInterval) out.get(j).add(new Example(s.sCtx[i], s.sPos[i], s.sVal[i]));
        }
        return out;
    }

    /** Which of {@code n} equal-width intervals of [0, max] holds v (lower edge j*max/n inclusive). */
    public static int interval(float v, float max, int n) {
        for (int j = n - 1; j > 0; j--) if ((double) v >= intervalLow(j, max, n)) return j;
        return 0;
    }

    /** Lower edge of interval j of [0, max] in n parts (computed in double, reported as float). */
    public static double intervalLow(int j, float max, int n) {
        return (double) max * j / n;
    }

    /** Features that fired at least once, ascending. */
    public int[] firedFeatures() {
        int n = 0;
        for (State s : states) if (s != null && s.fires > 0) n++;
        int[] out = new int[n];
        for (int f = 0, k = 0; f < dSae; f++) if (states[f] != null && states[f].fires > 0) out[k++] = f;
        return out;
    }

    /** Writes the state; equal states write equal bytes. */
    public void write(DataOutputStream out) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeInt(dSae);
        out.writeInt(topK);
        out.writeInt(sampleSize);
        out.writeLong(tokens);
        out.writeLong(contexts);
        int[] fired = firedFeatures();
        out.writeInt(fired.length);
        for (int f : fired) {
            State s = states[f];
            out.writeInt(f);
            out.writeLong(s.fires);
            out.writeFloat(s.max);
            out.writeLong(s.sumHi);
            out.writeLong(s.sumLo);
            int lo = 0, hi = s.hist.length;
            while (lo < hi && s.hist[lo] == 0) lo++;
            while (hi > lo && s.hist[hi - 1] == 0) hi--;
            out.writeByte(lo);
            out.writeByte(hi - lo);
            for (int i = lo; i < hi; i++) out.writeLong(s.hist[i]);
            out.writeInt(s.nTop);
            for (int i = 0; i < s.nTop; i++) {
                out.writeLong(s.topCtx[i]);
                out.writeInt(s.topPos[i]);
                out.writeFloat(s.topVal[i]);
            }
            out.writeInt(s.nSample);
            for (int i = 0; i < s.nSample; i++) {
                out.writeLong(s.sCtx[i]);
                out.writeInt(s.sPos[i]);
                out.writeFloat(s.sVal[i]);
            }
        }
    }

    /** Reads what {@link #write} wrote; any inconsistency is an IOException naming what is wrong. */
    public static FeatureStats read(DataInputStream in) throws IOException {
        if (in.readInt() != MAGIC) throw new IOException("not a jlens atlas partial (bad magic)");
        int version = in.readInt();
        if (version != VERSION) throw new IOException("atlas partial version " + version + ", expected " + VERSION);
        FeatureStats st;
        try {
            st = new FeatureStats(in.readInt(), in.readInt(), in.readInt());
        } catch (IllegalArgumentException e) {
            throw new IOException("atlas partial header: " + e.getMessage(), e);
        }
        st.tokens = in.readLong();
        st.contexts = in.readLong();
        int n = in.readInt();
        if (n < 0 || n > st.dSae) throw new IOException("atlas partial: " + n + " features for d_sae " + st.dSae);
        int prev = -1;
        for (int k = 0; k < n; k++) {
            int f = in.readInt();
            if (f <= prev || f >= st.dSae) throw new IOException("atlas partial: feature " + f + " out of order or range");
            prev = f;
            State s = st.state(f);
            s.fires = in.readLong();
            s.max = in.readFloat();
            s.sumHi = in.readLong();
            s.sumLo = in.readLong();
            int lo = in.readUnsignedByte(), len = in.readUnsignedByte();
            if (lo + len > s.hist.length) throw new IOException("atlas partial: feature " + f + " histogram range");
            for (int i = lo; i < lo + len; i++) s.hist[i] = in.readLong();
            s.nTop = count(in.readInt(), st.topK, f, "top");
            for (int i = 0; i < s.nTop; i++) {
                s.topCtx[i] = in.readLong();
                s.topPos[i] = in.readInt();
                s.topVal[i] = in.readFloat();
            }
            s.nSample = count(in.readInt(), st.sampleSize, f, "sample");
            for (int i = 0; i < s.nSample; i++) {
                s.sCtx[i] = in.readLong();
                s.sPos[i] = in.readInt();
                s.sVal[i] = in.readFloat();
            }
        }
        return st;
    }

    private static int count(int n, int cap, int f, String what) throws IOException {
        if (n < 0 || n > cap) throw new IOException("atlas partial: feature " + f + " has " + n + " " + what + " entries (cap " + cap + ")");
        return n;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof FeatureStats s) || s.dSae != dSae || s.topK != topK || s.sampleSize != sampleSize
                || s.tokens != tokens || s.contexts != contexts) return false;
        for (int f = 0; f < dSae; f++) {
            State a = states[f], b = s.states[f];
            if ((a == null || a.fires == 0) != (b == null || b.fires == 0)) return false;
            if (a == null || a.fires == 0) continue;
            if (a.fires != b.fires || Float.compare(a.max, b.max) != 0 || a.sumHi != b.sumHi || a.sumLo != b.sumLo
                    || !Arrays.equals(a.hist, b.hist) || !top(f).equals(s.top(f)) || !sample(f).equals(s.sample(f))) return false;
        }
        return true;
    }

    @Override
    public int hashCode() { return Long.hashCode(tokens) * 31 + Long.hashCode(contexts); }
}
