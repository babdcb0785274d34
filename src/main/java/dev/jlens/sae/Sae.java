package dev.jlens.sae;

import dev.jlens.api.EncoderKind;

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
 * A sparse autoencoder (JumpReLU, standard ReLU or TopK, see {@link SaeConfig#architecture()}) whose weights are
 * views of memory-mapped files (never copied onto the heap). Owns the Arena of its mappings: closing the Sae
 * unmaps them, after which no view may be used.
 *
 * <p>Load-time validation: the architecture's tensors present (W_enc, W_dec, b_enc, b_dec, and threshold for
 * JumpReLU only), shapes consistent with each other and the config, matrices f32/bf16/f16 (f16 is widened once
 * into off-heap f32, logged), biases and threshold f32 (other float types widened off-heap), and no NaN/Inf
 * anywhere. The matrix scan is a sequential read of every weight (2 x 150 MB for the 16k SAE, 2 x 2.4 GB for the
 * 262k one: seconds from page cache, disk speed otherwise) — it also pages the weights in, which the first encode
 * would pay anyway.
 *
 * <p>Fortran-order matrices (what {@code np.savez} writes for a transposed view such as {@code W.T}) load too.
 * A Fortran W_enc {@code [d_in, d_sae]} is the C-order {@code [d_sae, d_in]} matrix W_enc^T: it stays mapped in
 * place ({@link #wEncTransposed()}) and the encoders read it in that layout. A Fortran W_dec is transposed once
 * into off-heap memory (logged), since decoding reads whole decoder rows.
 *
 * <p>Activation rule ({@link #encodeThreshold()}): a feature fires when its pre-activation is strictly above a
 * per-feature bound, and its code is the pre-activation. JumpReLU: SAELens computes
 * {@code ReLU(pre) * (pre > threshold)}, so the bound is {@code max(threshold, 0)}: a threshold <= 0 is legal
 * and acts as a plain ReLU, exactly as in SAELens (negative thresholds are logged). Standard: {@code ReLU(pre)},
 * bound 0. TopK: {@code ReLU} of the k largest pre-activations, i.e. the k largest of those above 0.
 */
public final class Sae implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Sae.class.getName());
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final List<String> MEMBERS = List.of("W_enc", "W_dec", "b_enc", "b_dec", "threshold");

    /** The tensors an SAE of {@code architecture} has (SAELens' state dict keys). */
    static List<String> members(String architecture) {
        return "jumprelu".equals(architecture) ? MEMBERS : MEMBERS.subList(0, 4);
    }

    /** Element types a loader may hand over. */
    enum ElemType { F32, BF16, F16 }

    /**
     * One tensor as read from a file, before validation. {@code shape} and {@code data} are in C order; with
     * {@code fortranOrder} the file's array is their transpose (see {@link dev.jlens.formats.Tensor}).
     */
    record RawTensor(String name, ElemType type, long[] shape, MemorySegment data, boolean fortranOrder) {
        RawTensor(String name, ElemType type, long[] shape, MemorySegment data) {
            this(name, type, shape, data, false);
        }

        /** The shape as numpy shows the array. */
        long[] logicalShape() {
            if (!fortranOrder) return shape;
            long[] r = new long[shape.length];
            for (int i = 0; i < r.length; i++) r[i] = shape[shape.length - 1 - i];
            return r;
        }
    }

    /** Decoder row L2 norms: Gemma Scope rows are ~1. */
    public record RowNormStats(float min, int argMin, float max, int argMax, double mean) {}

    private final SaeConfig cfg;
    private final Path source;
    private final Arena arena;
    private final List<AutoCloseable> resources;
    private final Weights wEnc;
    private final boolean wEncTransposed;
    private final Weights wDec;
    private final MemorySegment bEnc;
    private final MemorySegment bDec;
    private final MemorySegment threshold;
    private final MemorySegment encodeThreshold;
    private final RowNormStats norms;
    private volatile boolean closed;

    private Sae(SaeConfig cfg, Path source, Arena arena, List<AutoCloseable> resources, Weights wEnc, boolean wEncTransposed,
                Weights wDec, MemorySegment bEnc, MemorySegment bDec, MemorySegment threshold, MemorySegment encodeThreshold,
                RowNormStats norms) {
        this.cfg = cfg;
        this.source = source;
        this.arena = arena;
        this.resources = resources;
        this.wEnc = wEnc;
        this.wEncTransposed = wEncTransposed;
        this.wDec = wDec;
        this.bEnc = bEnc;
        this.bDec = bDec;
        this.threshold = threshold;
        this.encodeThreshold = encodeThreshold;
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
        for (String m : members(cfg.architecture()))
            if (!tensors.containsKey(m))
                throw new FormatException(file, m, "missing tensor of a " + cfg.architecture() + " SAE; present: " + tensors.keySet().stream().sorted().toList());
        if (!"jumprelu".equals(cfg.architecture()) && tensors.containsKey("threshold"))
            throw new FormatException(file, "threshold", "present, but the config says architecture \"" + cfg.architecture()
                    + "\", which has no threshold (SAELens would refuse the state dict): is it a \"jumprelu\" SAE?");
        RawTensor enc = tensors.get("W_enc"), dec = tensors.get("W_dec");
        long[] es = shape2(file, enc), ds = shape2(file, dec);
        if (es[0] != cfg.dIn() || es[1] != cfg.dSae())
            throw new FormatException(file, "W_enc", "shape " + Arrays.toString(es) + " but config says [d_in=" + cfg.dIn() + ", d_sae=" + cfg.dSae() + "]");
        if (ds[0] != cfg.dSae() || ds[1] != cfg.dIn())
            throw new FormatException(file, "W_dec", "shape " + Arrays.toString(ds) + " does not match W_enc " + Arrays.toString(es) + " transposed [d_sae=" + cfg.dSae() + ", d_in=" + cfg.dIn() + "]");
        Weights wEnc = matrix(file, enc, arena), wDec = matrix(file, dec, arena);
        if (dec.fortranOrder()) wDec = transposed(file, dec.name(), wDec, arena);
        MemorySegment bEnc = vector(file, tensors.get("b_enc"), cfg.dSae(), "d_sae", arena);
        MemorySegment thr = tensors.containsKey("threshold") ? vector(file, tensors.get("threshold"), cfg.dSae(), "d_sae", arena) : null;
        MemorySegment bDec = vector(file, tensors.get("b_dec"), cfg.dIn(), "d_in", arena);
        MemorySegment bound = encodeThreshold(file, cfg, thr, arena);
        checkFinite(file, "W_enc", wEnc);
        RowNormStats norms = decoderNormsCheckingFinite(file, wDec);
        Weights we = wEnc, wd = wDec;
        LOG.log(Level.INFO, () -> String.format("SAE %s: %s d_in=%d d_sae=%d%s W_enc %s%s W_dec %s; decoder row norms min %.4f (feature %d) max %.4f (feature %d) mean %.4f",
                file, cfg.architecture(), cfg.dIn(), cfg.dSae(), cfg.k() == null ? "" : " k=" + cfg.k(), we.format(),
                enc.fortranOrder() ? " (Fortran order: read as W_enc^T)" : "", wd.format(), norms.min(), norms.argMin(), norms.max(), norms.argMax(), norms.mean()));
        if (norms.min() < 0.5f || norms.max() > 2f)
            LOG.log(Level.WARNING, "SAE " + file + ": decoder rows are far from unit norm (min " + norms.min() + ", max " + norms.max() + ")");
        return new Sae(cfg, file, arena, resources, wEnc, enc.fortranOrder(), wDec, bEnc, bDec, thr, bound, norms);
    }

    /**
     * The strict lower bound a pre-activation must exceed to fire (see the class comment): JumpReLU max(threshold, 0),
     * the mapped thresholds themselves when none is negative; standard and topk 0.
     */
    private static MemorySegment encodeThreshold(Path file, SaeConfig cfg, MemorySegment thr, Arena arena) {
        int n = cfg.dSae();
        if (thr == null) return arena.allocate(4L * n, 64); // zeros
        int negative = 0, zero = 0;
        for (int i = 0; i < n; i++) {
            float t = thr.getAtIndex(F32, i);
            if (t < 0) negative++;
            else if (t == 0) zero++;
        }
        if (zero > 0) LOG.log(Level.INFO, "SAE " + file + ": " + zero + " of " + n + " JumpReLU thresholds are 0 (those features act as a plain ReLU)");
        if (negative == 0) return thr;
        LOG.log(Level.WARNING, "SAE " + file + ": " + negative + " of " + n + " JumpReLU thresholds are negative; as in SAELens "
                + "(ReLU(pre) * (pre > threshold)) those features fire only when pre > 0");
        MemorySegment out = arena.allocate(4L * n, 64);
        for (int i = 0; i < n; i++) out.setAtIndex(F32, i, Math.max(thr.getAtIndex(F32, i), 0f));
        return out;
    }

    /** The transpose of {@code w} in off-heap memory of the Sae's arena, in the same element format. */
    private static Weights transposed(Path file, String name, Weights w, Arena arena) {
        int rows = w.rows(), cols = w.cols();
        long bytes = (long) rows * cols * w.format().bytes;
        LOG.log(Level.INFO, file + ": " + name + " is stored in Fortran order; transposing it once into off-heap memory ("
                + bytes / (1 << 20) + " MiB)");
        MemorySegment out = arena.allocate(bytes, 64);
        MemorySegment in = w.data();
        boolean f32 = w.format() == WeightFormat.F32;
        final int B = 64; // square blocks keep both sides' cache lines in use
        IntStream.range(0, (rows + B - 1) / B).parallel().forEach(rb -> {
            int r0 = rb * B, r1 = Math.min(rows, r0 + B);
            for (int c0 = 0; c0 < cols; c0 += B) {
                int c1 = Math.min(cols, c0 + B);
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++) {
                        long src = (long) r * cols + c, dst = (long) c * rows + r;
                        if (f32) out.setAtIndex(F32, dst, in.getAtIndex(F32, src));
                        else out.setAtIndex(I16, dst, in.getAtIndex(I16, src));
                    }
            }
            release(in, (long) r0 * cols * w.format().bytes, (long) r1 * cols * w.format().bytes);
        });
        return new Weights(out, w.format(), cols, rows);
    }

    /** The 2-D shape as numpy shows the array (a Fortran-order tensor's C-order shape reversed). */
    private static long[] shape2(Path file, RawTensor t) throws FormatException {
        long[] s = t.logicalShape();
        if (s.length != 2) throw new FormatException(file, t.name(), "must be 2-D, shape is " + Arrays.toString(s));
        if (s[0] > Integer.MAX_VALUE || s[1] > Integer.MAX_VALUE)
            throw new FormatException(file, t.name(), "dimension too large: " + Arrays.toString(s));
        return s;
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

    /**
     * Gemma Scope params.npz (keys W_* or Gemma Scope's w_*, C or Fortran order). The hook layer is read from a
     * "layer_N" directory in the path, and the model and hook kind from a Gemma Scope release folder such as
     * {@code gemma-scope-2b-pt-res} (see {@link SaeLoader}); with no layer_N folder the hook is unknown.
     */
    public static Sae loadGemmaScopeNpz(Path paramsNpz) throws IOException {
        return SaeLoader.gemmaScopeNpz(paramsNpz, -1);
    }

    /** Gemma Scope params.npz with an explicit config (checked against the tensor shapes). */
    public static Sae loadGemmaScopeNpz(Path paramsNpz, SaeConfig cfg) throws IOException {
        return SaeLoader.gemmaScopeNpz(paramsNpz, Objects.requireNonNull(cfg, "cfg"));
    }

    /** SAELens directory with cfg.json and sae_weights.safetensors. */
    public static Sae loadSaeLensDir(Path dir) throws IOException {
        return SaeLoader.saeLensDir(dir);
    }

    /**
     * A registry id ("release/sae_id" of models/registry.json), a SAELens directory, a folder holding params.npz,
     * or a params.npz file; see {@link SaeLoader#load} for the precedence. A bare params.npz gets an unknown hook.
     */
    public static Sae load(String pathOrId) throws IOException {
        return SaeLoader.load(pathOrId, -1);
    }

    /**
     * As {@link #load(String)}; a params.npz whose path names no layer gets {@code blocks.layerHint.<hook>}
     * ({@code layerHint} from the activations' capture.json or the user; -1 leaves it unknown). A layer the SAE
     * states itself wins: compare it with {@link SaeFit#requireCapturePoint}.
     */
    public static Sae load(String pathOrId, int layerHint) throws IOException {
        return SaeLoader.load(pathOrId, layerHint);
    }

    /**
     * The config {@link #load(String, int)} would give, read without mapping or validating the weights: for checks
     * before a long run (e.g. {@link SaeFit#requireForCapture}).
     */
    public static SaeConfig config(String pathOrId, int layerHint) throws IOException {
        return SaeLoader.config(pathOrId, layerHint);
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

    /**
     * W_enc as stored, a view of the mapped file: [d_in x d_sae], or [d_sae x d_in] (W_enc^T) when
     * {@link #wEncTransposed()}.
     */
    public Weights wEnc() { return live(wEnc); }

    /** Whether {@link #wEnc()} is W_enc^T [d_sae x d_in] (a Fortran-order W_enc read in place). */
    public boolean wEncTransposed() { return wEncTransposed; }

    /** W_enc element (k, f) for input dimension k and feature f, whichever the layout. */
    public float wEnc(int k, int f) {
        Weights w = live(wEnc);
        return wEncTransposed ? w.get(f, k) : w.get(k, f);
    }

    /** W_dec [d_sae x d_in], a view of the mapped file. */
    public Weights wDec() { return live(wDec); }

    /** b_enc, f32 [d_sae]. */
    public MemorySegment bEnc() { return live(bEnc); }

    /** b_dec, f32 [d_in]. */
    public MemorySegment bDec() { return live(bDec); }

    /** JumpReLU thresholds as stored, f32 [d_sae]; a standard or topk SAE has none (throws). */
    public MemorySegment threshold() {
        if (threshold == null) throw new IllegalStateException("SAE " + source + " is " + cfg.architecture() + ": it has no threshold");
        return live(threshold);
    }

    public float threshold(int feature) { return threshold().getAtIndex(F32, Objects.checkIndex(feature, dSae())); }

    /** Whether the SAE has JumpReLU thresholds. */
    public boolean hasThreshold() { return threshold != null; }

    /**
     * Per feature, the strict lower bound its pre-activation must exceed to fire, f32 [d_sae]: max(threshold, 0)
     * for JumpReLU (SAELens applies the ReLU too), 0 for standard and topk.
     */
    public MemorySegment encodeThreshold() { return live(encodeThreshold); }

    /** k of a topk SAE, 0 for the others (all features above their bound fire). */
    public int topK() { return cfg.k() == null ? 0 : cfg.k(); }

    public float bEnc(int feature) { return live(bEnc).getAtIndex(F32, Objects.checkIndex(feature, dSae())); }

    /** Decoder row of one feature (its direction in the residual stream), widened to f32. */
    public float[] decoderRow(int feature) {
        return live(wDec).row(Objects.checkIndex(feature, dSae()));
    }

    public RowNormStats decoderRowNorms() { return norms; }

    /**
     * An encoder of this SAE (SAELens' {@code sae.encode}): {@code kind} picks the kernels, {@link EncoderKind#AUTO}
     * lets {@link SaeEncoders} choose for this CPU and SAE. The caller closes it; it reads this SAE's weights, so it
     * must be closed before this SAE.
     */
    public SaeEncoder encoder(EncoderKind kind, EncoderOptions options) {
        return SaeEncoders.create(this, Objects.requireNonNull(kind, "kind").toString(), options);
    }

    /** {@link #encoder(EncoderKind, EncoderOptions)} with the default options. */
    public SaeEncoder encoder(EncoderKind kind) {
        return encoder(kind, EncoderOptions.defaults());
    }

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
