package dev.jlens.sae;

import dev.jlens.formats.FormatException;
import dev.jlens.kernels.WeightFormat;
import dev.jlens.kernels.Weights;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * A JumpReLU sparse autoencoder whose weights are views of memory-mapped files (never copied onto the
 * heap). Owns the Arena of its mappings: closing the Sae unmaps them, after which no view may be used.
 *
 * <p>Load-time validation: all five tensors present, shapes consistent with each other and the config,
 * matrices f32/bf16/f16 (f16 is widened once into off-heap f32, logged), biases and threshold f32 (other
 * float types widened off-heap), and no NaN/Inf anywhere. The matrix scan is a sequential read of every
 * weight (2 x 150 MB for the 16k SAE, 2 x 2.4 GB for the 262k one: seconds from page cache, disk speed
 * otherwise) — it also pages the weights in, which the first encode would pay anyway.
 */
public final class Sae implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Sae.class.getName());
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final List<String> MEMBERS = List.of("W_enc", "W_dec", "b_enc", "b_dec", "threshold");

    /** Element types a loader may hand over. */
    enum ElemType { F32, BF16, F16 }

    /** One tensor as read from a file, before validation. */
    record RawTensor(String name, ElemType type, long[] shape, MemorySegment data) {}

    /** Decoder row L2 norms: Gemma Scope rows are ~1. */
    public record RowNormStats(float min, int argMin, float max, int argMax, double mean) {}

    private final SaeConfig cfg;
    private final Path source;
    private final Arena arena;
    private final List<AutoCloseable> resources;
    private final Weights wEnc;
    private final Weights wDec;
    private final MemorySegment bEnc;
    private final MemorySegment bDec;
    private final MemorySegment threshold;
    private final RowNormStats norms;
    private volatile boolean closed;

    private Sae(SaeConfig cfg, Path source, Arena arena, List<AutoCloseable> resources, Weights wEnc, Weights wDec,
                MemorySegment bEnc, MemorySegment bDec, MemorySegment threshold, RowNormStats norms) {
        this.cfg = cfg;
        this.source = source;
        this.arena = arena;
        this.resources = resources;
        this.wEnc = wEnc;
        this.wDec = wDec;
        this.bEnc = bEnc;
        this.bDec = bDec;
        this.threshold = threshold;
        this.norms = norms;
    }

    /**
     * Validates tensors read from {@code file} and builds the Sae. {@code arena} (shared: encoders read
     * from several threads) and {@code resources} become owned by the result, also when this throws.
     */
    static Sae assemble(Path file, SaeConfig cfg, Arena arena, List<AutoCloseable> resources, Map<String, RawTensor> tensors)
            throws IOException {
        try {
            return assembleOrThrow(file, cfg, arena, resources, tensors);
        } catch (IOException | RuntimeException | Error e) {
            closeAll(resources, arena, e);
            throw e;
        }
    }

    private static Sae assembleOrThrow(Path file, SaeConfig cfg, Arena arena, List<AutoCloseable> resources,
                                       Map<String, RawTensor> tensors) throws IOException {
        for (String m : MEMBERS)
            if (!tensors.containsKey(m))
                throw new FormatException(file, m, "missing tensor; present: " + tensors.keySet().stream().sorted().toList());
        RawTensor enc = tensors.get("W_enc"), dec = tensors.get("W_dec");
        long[] es = shape2(file, enc), ds = shape2(file, dec);
        if (es[0] != cfg.dIn() || es[1] != cfg.dSae())
            throw new FormatException(file, "W_enc", "shape " + Arrays.toString(es) + " but config says [d_in=" + cfg.dIn() + ", d_sae=" + cfg.dSae() + "]");
        if (ds[0] != cfg.dSae() || ds[1] != cfg.dIn())
            throw new FormatException(file, "W_dec", "shape " + Arrays.toString(ds) + " does not match W_enc " + Arrays.toString(es) + " transposed [d_sae=" + cfg.dSae() + ", d_in=" + cfg.dIn() + "]");
        Weights wEnc = matrix(file, enc, arena), wDec = matrix(file, dec, arena);
        MemorySegment bEnc = vector(file, tensors.get("b_enc"), cfg.dSae(), "d_sae", arena);
        MemorySegment thr = vector(file, tensors.get("threshold"), cfg.dSae(), "d_sae", arena);
        MemorySegment bDec = vector(file, tensors.get("b_dec"), cfg.dIn(), "d_in", arena);
        checkFinite(file, "W_enc", wEnc);
        RowNormStats norms = decoderNormsCheckingFinite(file, wDec);
        LOG.log(Level.INFO, () -> String.format("SAE %s: d_in=%d d_sae=%d W_enc %s W_dec %s; decoder row norms min %.4f (feature %d) max %.4f (feature %d) mean %.4f",
                file, cfg.dIn(), cfg.dSae(), wEnc.format(), wDec.format(), norms.min(), norms.argMin(), norms.max(), norms.argMax(), norms.mean()));
        if (norms.min() < 0.5f || norms.max() > 2f)
            LOG.log(Level.WARNING, "SAE " + file + ": decoder rows are far from unit norm (min " + norms.min() + ", max " + norms.max() + ")");
        return new Sae(cfg, file, arena, resources, wEnc, wDec, bEnc, bDec, thr, norms);
    }

    private static long[] shape2(Path file, RawTensor t) throws FormatException {
        if (t.shape().length != 2) throw new FormatException(file, t.name(), "must be 2-D, shape is " + Arrays.toString(t.shape()));
        if (t.shape()[0] > Integer.MAX_VALUE || t.shape()[1] > Integer.MAX_VALUE)
            throw new FormatException(file, t.name(), "dimension too large: " + Arrays.toString(t.shape()));
        return t.shape();
    }

    private static Weights matrix(Path file, RawTensor t, Arena arena) throws FormatException {
        int rows = (int) t.shape()[0], cols = (int) t.shape()[1];
        return switch (t.type()) {
            case F32 -> new Weights(t.data(), WeightFormat.F32, rows, cols);
            case BF16 -> new Weights(t.data(), WeightFormat.BF16, rows, cols);
            case F16 -> {
                LOG.log(Level.INFO, file + ": " + t.name() + " is f16, which the kernels do not read; widening to off-heap f32 ("
                        + (long) rows * cols * 4 / (1 << 20) + " MiB)");
                yield new Weights(widen(t, arena), WeightFormat.F32, rows, cols);
            }
        };
    }

    private static MemorySegment vector(Path file, RawTensor t, int n, String dim, Arena arena) throws FormatException {
        if (t.shape().length != 1 || t.shape()[0] != n)
            throw new FormatException(file, t.name(), "shape " + Arrays.toString(t.shape()) + " but expected [" + dim + "=" + n + "]");
        MemorySegment s = t.type() == ElemType.F32 ? t.data() : widen(t, arena);
        for (int i = 0; i < n; i++) {
            float v = s.getAtIndex(F32, i);
            if (!Float.isFinite(v)) throw new FormatException(file, t.name(), "non-finite value " + v + " at index " + i);
        }
        return s;
    }

    /** Converts bf16/f16 to a fresh off-heap f32 segment in the Sae's arena. */
    private static MemorySegment widen(RawTensor t, Arena arena) {
        long n = t.data().byteSize() / 2;
        MemorySegment out = arena.allocate(n * 4, 64);
        for (long i = 0; i < n; i++) {
            short h = t.data().getAtIndex(I16, i);
            out.setAtIndex(F32, i, t.type() == ElemType.BF16 ? WeightFormat.fromBf16(h) : Float.float16ToFloat(h));
        }
        return out;
    }

    /**
     * Finds the first NaN/Inf by exponent bits; chunks run in parallel since this reads gigabytes. A memory-mapped
     * chunk is released from this process's resident set once read ({@link #release}), so validating a 262k SAE
     * (2.4 GB per matrix in f32) does not leave the whole file resident: the encoder faults back only what it reads.
     */
    private static void checkFinite(Path file, String member, Weights w) throws FormatException {
        long n = (long) w.rows() * w.cols();
        int chunks = (int) Math.min(4096, Math.max(1, n >>> 20));
        long per = (n + chunks - 1) / chunks;
        MemorySegment d = w.data();
        boolean f32 = w.format() == WeightFormat.F32;
        long bytes = f32 ? 4 : 2;
        long bad = IntStream.range(0, chunks).parallel().mapToLong(c -> {
            long from = c * per, to = Math.min(n, from + per);
            long found = Long.MAX_VALUE;
            for (long i = from; i < to; i++) {
                boolean nonFinite = f32 ? (d.getAtIndex(I32, i) & 0x7F800000) == 0x7F800000
                        : (d.getAtIndex(I16, i) & 0x7F80) == 0x7F80;
                if (nonFinite) { found = i; break; }
            }
            release(d, from * bytes, to * bytes);
            return found;
        }).min().orElse(Long.MAX_VALUE);
        if (bad != Long.MAX_VALUE) {
            long r = bad / w.cols(), c = bad % w.cols();
            throw new FormatException(file, member, "non-finite value " + w.get(r, c) + " at index [" + r + ", " + c + "]");
        }
    }

    /** Row L2 norms of W_dec in blocks of rows, checking finiteness in the same pass and releasing each block once read. */
    private static RowNormStats decoderNormsCheckingFinite(Path file, Weights wDec) throws FormatException {
        int rows = wDec.rows(), cols = wDec.cols();
        long rowBytes = (long) cols * (wDec.format() == WeightFormat.F32 ? 4 : 2);
        int block = (int) Math.max(1, Math.min(rows, (4L << 20) / rowBytes)); // ~4 MiB of rows per task
        int blocks = (rows + block - 1) / block;
        double[] norm = new double[rows];
        long bad = IntStream.range(0, blocks).parallel().mapToLong(b -> {
            int from = b * block, to = Math.min(rows, from + block);
            long found = Long.MAX_VALUE;
            for (int r = from; r < to && found == Long.MAX_VALUE; r++) {
                double s = 0;
                for (int c = 0; c < cols; c++) {
                    float v = wDec.get(r, c);
                    if (!Float.isFinite(v)) { found = (long) r * cols + c; break; }
                    s += (double) v * v;
                }
                norm[r] = Math.sqrt(s);
            }
            release(wDec.data(), from * rowBytes, to * rowBytes);
            return found;
        }).min().orElse(Long.MAX_VALUE);
        if (bad != Long.MAX_VALUE) {
            long r = bad / cols, c = bad % cols;
            throw new FormatException(file, "W_dec", "non-finite value " + wDec.get(r, c) + " at index [" + r + ", " + c + "]");
        }
        int lo = 0, hi = 0;
        double sum = 0;
        for (int r = 0; r < norm.length; r++) {
            if (norm[r] < norm[lo]) lo = r;
            if (norm[r] > norm[hi]) hi = r;
            sum += norm[r];
        }
        return new RowNormStats((float) norm[lo], lo, (float) norm[hi], hi, sum / norm.length);
    }

    /**
     * Drops the pages of {@code [from, to)} of a memory-mapped segment from this process's resident set (the data
     * stays in the page cache and is faulted back on the next read); a no-op for off-heap copies. Only whole pages
     * inside the range are released, so a neighbouring tensor's pages are never touched.
     */
    static void release(MemorySegment seg, long from, long to) {
        if (!seg.isMapped() || to <= from) return;
        long page = PAGE;
        long addr = seg.address();
        long start = ((addr + from + page - 1) / page) * page - addr; // first whole page inside the range
        long end = ((addr + to) / page) * page - addr;                 // end of the last whole page inside it
        if (end - start >= page) seg.asSlice(start, end - start).unload();
    }

    private static final long PAGE = 4096;

    /** Gemma Scope params.npz; the hook layer is read from a "layer_N" directory in the path. */
    public static Sae loadGemmaScopeNpz(Path paramsNpz) throws IOException {
        return SaeLoader.gemmaScopeNpz(paramsNpz);
    }

    /** Gemma Scope params.npz with an explicit config (checked against the tensor shapes). */
    public static Sae loadGemmaScopeNpz(Path paramsNpz, SaeConfig cfg) throws IOException {
        return SaeLoader.gemmaScopeNpz(paramsNpz, Objects.requireNonNull(cfg, "cfg"), cfg.hookLayer(), cfg.neuronpediaId());
    }

    /** SAELens directory with cfg.json and sae_weights.safetensors. */
    public static Sae loadSaeLensDir(Path dir) throws IOException {
        return SaeLoader.saeLensDir(dir);
    }

    /** A directory (SAELens), a .npz file (Gemma Scope), or a "release/sae_id" id from the registry. */
    public static Sae load(String pathOrId) throws IOException {
        return SaeLoader.load(pathOrId);
    }

    /** Resolves through models/registry.json (see {@link SaeRegistry}). */
    public static Sae fromPretrained(String release, String saeId) throws IOException {
        return SaeLoader.fromPretrained(release, saeId);
    }

    public SaeConfig cfg() { return cfg; }

    /** The file or directory this SAE was loaded from. */
    public Path source() { return source; }

    public int dIn() { return cfg.dIn(); }

    public int dSae() { return cfg.dSae(); }

    /** W_enc [d_in x d_sae], a view of the mapped file. */
    public Weights wEnc() { return live(wEnc); }

    /** W_dec [d_sae x d_in], a view of the mapped file. */
    public Weights wDec() { return live(wDec); }

    /** b_enc, f32 [d_sae]. */
    public MemorySegment bEnc() { return live(bEnc); }

    /** b_dec, f32 [d_in]. */
    public MemorySegment bDec() { return live(bDec); }

    /** JumpReLU thresholds, f32 [d_sae]. */
    public MemorySegment threshold() { return live(threshold); }

    public float threshold(int feature) { return live(threshold).getAtIndex(F32, Objects.checkIndex(feature, dSae())); }

    public float bEnc(int feature) { return live(bEnc).getAtIndex(F32, Objects.checkIndex(feature, dSae())); }

    /** Decoder row of one feature (its direction in the residual stream), widened to f32. */
    public float[] decoderRow(int feature) {
        return live(wDec).row(Objects.checkIndex(feature, dSae()));
    }

    public RowNormStats decoderRowNorms() { return norms; }

    /** Throws when this SAE cannot read the model's residual stream. */
    public void validateFor(int dModel) {
        if (dModel != cfg.dIn())
            throw new IllegalArgumentException("SAE " + source + " has d_in=" + cfg.dIn() + " but the model's d_model is " + dModel
                    + " (hook " + cfg.hookName() + ", model " + cfg.modelName() + ")");
    }

    private <T> T live(T view) {
        if (closed) throw new IllegalStateException("SAE " + source + " is closed");
        return view;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        closeAll(resources, arena, null);
    }

    private static void closeAll(List<AutoCloseable> resources, Arena arena, Throwable primary) {
        List<Throwable> errors = new ArrayList<>();
        for (AutoCloseable r : resources) {
            try { r.close(); } catch (Exception e) { errors.add(e); }
        }
        try { arena.close(); } catch (RuntimeException e) { errors.add(e); }
        if (primary != null) { errors.forEach(primary::addSuppressed); return; }
        if (!errors.isEmpty()) {
            IllegalStateException e = new IllegalStateException("closing SAE resources failed", errors.get(0));
            errors.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
    }
}
