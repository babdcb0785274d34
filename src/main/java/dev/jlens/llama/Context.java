package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.ggml_abort_callback;
import dev.jlens.bindings.ggml_backend_sched_eval_callback;
import dev.jlens.bindings.llama_batch;
import dev.jlens.bindings.llama_context_params;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A llama_context: KV cache, compute buffers and the residual tap. Confined to one thread at a time:
 * a second thread entering while one is inside gets IllegalStateException (not a crash). Close it
 * before its {@link Model}; close from another thread during a decode cancels that decode first.
 */
public final class Context implements AutoCloseable {
    /**
     * @param nCtx       KV-cache size in tokens; also the most tokens one batch (all its prompts) may hold
     * @param nUbatch    tokens per physical compute step; longer batches arrive in several callbacks
     * @param nSeqMax    most prompts (sequences) per batch
     * @param nThreads   CPU threads for decode
     * @param f32KvCache store K/V in f32 (the default): with flash attention off the whole attention is f32, as in an
     *                   f32 reference forward pass (layer-12 row error ~4e-5 median, &lt; 1e-3 worst on the test model).
     *                   false stores them in f16 (llama.cpp's own default, {@link #withFastKv}): half the cache memory,
     *                   ~2e-3 row error at layer 12, visible in SAE codes near their thresholds
     * @param flashAttn  use flash attention (f16 internally on CPU); off (the default) gives the plain f32 softmax path
     * @param tap        install the eval callback (needed for capture; off only for benchmarks of the bare decode)
     */
    public record Params(int nCtx, int nUbatch, int nSeqMax, int nThreads, boolean f32KvCache, boolean flashAttn, boolean tap) {
        public Params {
            if (nCtx < 1) throw new IllegalArgumentException("nCtx must be >= 1, got " + nCtx);
            if (nUbatch < 1 || nUbatch > nCtx) throw new IllegalArgumentException("nUbatch must be in [1, nCtx=" + nCtx + "], got " + nUbatch);
            if (nSeqMax < 1 || nSeqMax > 256) throw new IllegalArgumentException("nSeqMax must be in [1, 256], got " + nSeqMax);
            // llama.cpp reserves max(n_outputs, n_seq_max) output rows and GGML_ASSERTs that this fits n_batch (= nCtx)
            if (nSeqMax > nCtx) throw new IllegalArgumentException("nSeqMax (" + nSeqMax + ") must not exceed nCtx (" + nCtx + ")");
            // ggml's CPU thread pool has room for GGML_MAX_N_THREADS (512); 10000 segfaulted
            if (nThreads < 1 || nThreads > 512) throw new IllegalArgumentException("nThreads must be in [1, 512] (ggml's GGML_MAX_N_THREADS), got " + nThreads);
        }

        /**
         * 2048-token context, 512-token steps, 64 sequences, all cores, f32 K/V cache, flash attention off, tap on: the
         * numerics of capture and scoring (an f32 cache costs 2x the f16 one: 26 layers x 2048 tokens x 2 x 1024 x 4 bytes
         * = 436 MB for Gemma 2 2B at the full context).
         */
        public static Params defaults() {
            return new Params(2048, 512, 64, Runtime.getRuntime().availableProcessors(), true, false, true);
        }

        public Params withCtx(int n) { return new Params(n, Math.min(nUbatch, n), Math.min(nSeqMax, Math.max(1, n)), nThreads, f32KvCache, flashAttn, tap); }
        public Params withUbatch(int n) { return new Params(nCtx, n, nSeqMax, nThreads, f32KvCache, flashAttn, tap); }
        public Params withSeqMax(int n) { return new Params(nCtx, nUbatch, n, nThreads, f32KvCache, flashAttn, tap); }
        public Params withThreads(int n) { return new Params(nCtx, nUbatch, nSeqMax, n, f32KvCache, flashAttn, tap); }
        public Params withF32KvCache(boolean b) { return new Params(nCtx, nUbatch, nSeqMax, nThreads, b, flashAttn, tap); }
        public Params withFlashAttn(boolean b) { return new Params(nCtx, nUbatch, nSeqMax, nThreads, f32KvCache, b, tap); }
        public Params withTap(boolean b) { return new Params(nCtx, nUbatch, nSeqMax, nThreads, f32KvCache, flashAttn, b); }
        /** {@code --fast-kv}: true gives an f16 K/V cache, false the f32 default; flash attention stays off either way. */
        public Params withFastKv(boolean fast) { return new Params(nCtx, nUbatch, nSeqMax, nThreads, !fast, false, tap); }
        /** Whether this is the {@code --fast-kv} numerics (an f16 K/V cache). */
        public boolean fastKv() { return !f32KvCache; }
    }

    /** What to capture: layers (each 0..nLayer-1) and whether to stop the graph after the highest. */
    public record CaptureSpec(int[] layers, boolean earlyExit) {
        public CaptureSpec {
            Objects.requireNonNull(layers, "layers");
            if (layers.length == 0) throw new IllegalArgumentException("no layer to capture");
            layers = layers.clone();
            for (int i = 0; i < layers.length; i++)
                for (int j = 0; j < i; j++)
                    if (layers[i] == layers[j]) throw new IllegalArgumentException("layer " + layers[i] + " requested twice");
        }

        public static CaptureSpec layer(int layer) { return new CaptureSpec(new int[]{layer}, true); }
    }

    private final Model model;
    private final Params params;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment handle;
    private final MemorySegment batch;       // llama_batch by value, sized nCtx tokens, 1 seq id each
    private final MemorySegment slice;       // llama_batch view into `batch`: one ubatch of a capture
    private final MemorySegment staging;     // tap staging [nUbatch x nEmbd] f32
    private final AtomicReference<Thread> user = new AtomicReference<>();
    private volatile boolean abortRequested;
    private volatile boolean closed;
    private ResidualTap activeTap;           // read by the upcall on the decoding thread
    private volatile Runnable evalHook;      // fault injection for tests only (see evalHookForTests)

    Context(Model model, Params params) {
        this.model = model;
        this.params = params;
        MemorySegment m = model.handle();
        MemorySegment p = LlamaH.llama_context_default_params(arena);
        llama_context_params.n_ctx(p, params.nCtx());
        llama_context_params.n_batch(p, params.nCtx());
        llama_context_params.n_ubatch(p, params.nUbatch());
        llama_context_params.n_seq_max(p, params.nSeqMax());
        llama_context_params.n_threads(p, params.nThreads());
        llama_context_params.n_threads_batch(p, params.nThreads());
        llama_context_params.kv_unified(p, true); // keeps batch order in ubatches (split_simple): row i = token i
        llama_context_params.no_perf(p, true);
        // a model loaded for the CPU stays on the CPU: in a CUDA build llama.cpp would otherwise ship big-batch
        // matmuls of CPU-resident weights to the GPU (op offload), and the numbers would depend on the build
        llama_context_params.op_offload(p, model.offloaded());
        llama_context_params.flash_attn_type(p, params.flashAttn() ? LlamaH.LLAMA_FLASH_ATTN_TYPE_ENABLED() : LlamaH.LLAMA_FLASH_ATTN_TYPE_DISABLED());
        if (params.f32KvCache()) {
            llama_context_params.type_k(p, LlamaH.GGML_TYPE_F32());
            llama_context_params.type_v(p, LlamaH.GGML_TYPE_F32());
        }
        if (params.tap()) {
            llama_context_params.cb_eval(p, ggml_backend_sched_eval_callback.allocate(this::onEval, arena));
            llama_context_params.cb_eval_user_data(p, MemorySegment.NULL);
        }
        llama_context_params.abort_callback(p, ggml_abort_callback.allocate(d -> abortRequested, arena));
        llama_context_params.abort_callback_data(p, MemorySegment.NULL);
        MemorySegment h = LlamaH.llama_init_from_model(m, p);
        if (h.equals(MemorySegment.NULL)) {
            arena.close();
            throw new LlamaException("llama_init_from_model", 0, "could not create a context with " + params + " (see the native log)");
        }
        this.handle = h;
        this.batch = LlamaH.llama_batch_init(arena, params.nCtx(), 0, 1);
        this.slice = llama_batch.allocate(arena);
        this.staging = arena.allocate(4L * params.nUbatch() * model.nEmbd(), 64);
    }

    public Model model() { return model; }
    public Params params() { return params; }

    private boolean onEval(MemorySegment t, boolean ask, MemorySegment user) {
        ResidualTap tap = activeTap;
        if (tap == null) return false;
        return tap.onEval(t, ask);
    }

    /** Enter the one-thread-at-a-time section; fails fast instead of racing on native state. */
    private void enter() {
        Thread me = Thread.currentThread();
        if (!user.compareAndSet(null, me)) {
            Thread other = user.get();
            if (other == me) throw new IllegalStateException("context re-entered on the same thread (from a callback?)");
            throw new IllegalStateException("context is in use by thread '" + (other == null ? "?" : other.getName())
                    + "': a Context is confined to one thread at a time; create one context per thread");
        }
        if (closed) {
            user.set(null);
            throw new IllegalStateException("context is closed");
        }
    }

    private void exit() { user.set(null); }

    /**
     * Captures the residual stream after the given layers for prompts given as token ids (BOS
     * included when wanted). Prompts are packed into batches of at most nCtx tokens and nSeqMax
     * sequences; {@code perBatch} receives each batch's activations and must close them (memory stays
     * bounded by one batch). Rows within a batch are in prompt order, then position order.
     */
    public void captureEach(List<int[]> prompts, CaptureSpec spec, Consumer<Activations> perBatch) {
        Objects.requireNonNull(prompts, "prompts");
        Objects.requireNonNull(perBatch, "perBatch");
        validate(prompts, 0, prompts.size(), spec);
        int nEmbd = model.nEmbd();
        ResidualTap tap = new ResidualTap(spec.layers(), spec.earlyExit(), nEmbd, staging, params.nUbatch());
        for (int[] b : packBatches(prompts, params.nCtx(), params.nSeqMax())) {
            int tokens = 0;
            for (int p = b[0]; p < b[1]; p++) tokens += prompts.get(p).length;
            Activations a = decodeBatch(prompts, b[0], b[1], tokens, spec, tap);
            perBatch.accept(a);
        }
    }

    /**
     * How {@link #captureEach} packs prompts into batches: greedily, in order, at most {@code maxTokens}
     * tokens and {@code maxSeqs} prompts per batch. Returns [from, to) prompt ranges. Deterministic, so a
     * resumed run recomputes exactly the batches it lacks (batch composition can change f32 rounding).
     */
    public static List<int[]> packBatches(List<int[]> prompts, int maxTokens, int maxSeqs) {
        List<int[]> out = new ArrayList<>();
        int i = 0;
        while (i < prompts.size()) {
            int start = i;
            long tokens = 0;
            while (i < prompts.size() && i - start < maxSeqs && tokens + prompts.get(i).length <= maxTokens) {
                tokens += prompts.get(i).length;
                i++;
            }
            if (i == start) throw new IllegalArgumentException("prompt " + i + " has " + prompts.get(i).length + " tokens, more than " + maxTokens);
            out.add(new int[] {start, i});
        }
        return out;
    }

    /**
     * Captures one batch as {@link #packBatches} plans it: prompts [from, to) of {@code prompts}, which must hold at
     * most nCtx tokens and nSeqMax prompts together (IllegalArgumentException otherwise). Rows carry the prompts'
     * indices in {@code prompts}. No packing happens here: callers that plan their batches themselves
     * ({@code dev.jlens.activations.CaptureSource}) decode exactly the batches they planned.
     */
    public Activations captureBatch(List<int[]> prompts, int from, int to, CaptureSpec spec) {
        Objects.requireNonNull(prompts, "prompts");
        Objects.checkFromToIndex(from, to, prompts.size());
        if (from == to) throw new IllegalArgumentException("an empty batch: no prompts to capture");
        validate(prompts, from, to, spec);
        long tokens = 0;
        for (int p = from; p < to; p++) tokens += prompts.get(p).length;
        if (tokens > params.nCtx() || to - from > params.nSeqMax()) {
            throw new IllegalArgumentException("a batch of " + (to - from) + " prompts and " + tokens + " tokens exceeds this context's "
                    + params.nSeqMax() + " prompts and " + params.nCtx() + " tokens");
        }
        ResidualTap tap = new ResidualTap(spec.layers(), spec.earlyExit(), model.nEmbd(), staging, params.nUbatch());
        return decodeBatch(prompts, from, to, (int) tokens, spec, tap);
    }

    /** Captures all prompts into one {@link Activations} (memory grows with the prompts; see {@link #captureEach}). */
    public Activations capture(List<int[]> prompts, CaptureSpec spec) {
        List<Activations> parts = new ArrayList<>();
        try {
            captureEach(prompts, spec, parts::add);
            return concat(parts, spec.layers());
        } finally {
            for (Activations a : parts) a.close();
        }
    }

    /** Joins batches' activations of the same layers into one, rows in order (the parts stay open: the caller closes them). */
    public Activations concat(List<Activations> parts, int[] layers) {
        int rows = 0;
        for (Activations a : parts) rows += a.rows();
        int nEmbd = model.nEmbd();
        Arena out = Arena.ofShared();
        try {
            MemorySegment[] data = new MemorySegment[layers.length];
            for (int l = 0; l < layers.length; l++) data[l] = out.allocate(4L * rows * nEmbd, 64);
            int[] prompt = new int[rows], pos = new int[rows], tok = new int[rows];
            int r = 0;
            for (Activations a : parts) {
                for (int l = 0; l < layers.length; l++) {
                    MemorySegment.copy(a.layer(layers[l]), 0, data[l], 4L * r * nEmbd, 4L * a.rows() * nEmbd);
                }
                for (int k = 0; k < a.rows(); k++) {
                    prompt[r + k] = a.promptOf(k);
                    pos[r + k] = a.positionOf(k);
                    tok[r + k] = a.tokenOf(k);
                }
                r += a.rows();
            }
            return new Activations(out, layers.clone(), data, nEmbd, prompt, pos, tok);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    private void validate(List<int[]> prompts, int from, int to, CaptureSpec spec) {
        if (!params.tap()) throw new IllegalStateException("this context was created without the eval callback (tap=false): it cannot capture");
        for (int l : spec.layers()) {
            if (l < 0 || l >= model.nLayer()) {
                throw new IllegalArgumentException("layer " + l + " is out of range: the model has layers 0.." + (model.nLayer() - 1));
            }
        }
        Vocab v = model.vocab();
        for (int p = from; p < to; p++) {
            int[] t = prompts.get(p);
            if (t == null || t.length == 0) throw new IllegalArgumentException("prompt " + p + " has no tokens");
            if (t.length > params.nCtx()) {
                throw new IllegalArgumentException("prompt " + p + " has " + t.length + " tokens, more than the context size "
                        + params.nCtx() + ": shorten it or raise the context size");
            }
            for (int k = 0; k < t.length; k++) {
                if (t[k] < 0 || t[k] >= v.size()) {
                    throw new IllegalArgumentException("prompt " + p + ", position " + k + ": token id " + t[k]
                            + " is out of range [0, " + v.size() + ")");
                }
            }
        }
    }

    private Activations decodeBatch(List<int[]> prompts, int from, int to, int nTokens, CaptureSpec spec, ResidualTap tap) {
        int nEmbd = model.nEmbd();
        int[] layers = spec.layers();
        Arena out = Arena.ofShared();
        try {
            MemorySegment[] dest = new MemorySegment[layers.length];
            for (int l = 0; l < layers.length; l++) dest[l] = out.allocate(4L * nTokens * nEmbd, 64);
            int[] prompt = new int[nTokens], pos = new int[nTokens], tok = new int[nTokens];
            enter();
            try {
                fillBatch(prompts, from, to, nTokens, outputsFor(spec), prompt, pos, tok);
                tap.reset(dest, nTokens, evalHook);
                activeTap = tap;
                int rc = 0;
                try {
                    // one llama_decode per ubatch: the tap knows where each graph starts, and clearing the
                    // KV cache whenever a slice starts fresh prompts keeps attention to the cells in use
                    for (int start = 0; start < nTokens && rc == 0; ) {
                        int end = sliceEnd(pos, start, nTokens, params.nUbatch());
                        if (pos[start] == 0) LlamaH.llama_memory_clear(LlamaH.llama_get_memory(handle), true);
                        setSlice(start, end - start);
                        tap.startUbatch();
                        rc = LlamaH.llama_decode(handle, slice);
                        if (abortRequested) { if (rc == 0) rc = 2; break; } // cancelled between ubatches
                        start = end;
                    }
                } finally {
                    activeTap = null;
                }
                if (abortRequested && rc == 2) throw new Status.CancelledException("capture cancelled");
                Status.checkDecode(rc);
                tap.checkAfterDecode(nTokens);
                FiniteCheck.requireFinite(model, layers, dest, nTokens, nEmbd, prompt, pos); // a NaN model is bad input, not data
            } finally {
                exit();
            }
            return new Activations(out, layers.clone(), dest, nEmbd, prompt, pos, tok);
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /**
     * End (exclusive) of the ubatch that starts at token {@code start}: whole prompts while they fit in
     * {@code ubatch} tokens; a prompt longer than that is cut into ubatch-sized pieces (later pieces continue
     * its sequence in the KV cache). {@code pos} holds each token's position within its prompt.
     */
    static int sliceEnd(int[] pos, int start, int nTokens, int ubatch) {
        int end = Math.min(nTokens, start + ubatch);
        if (end == nTokens || pos[end] == 0) return end;      // ends at a prompt boundary
        int lastStart = end;                                   // back up to the start of the prompt cut at `end`
        while (lastStart > start && pos[lastStart] != 0) lastStart--;
        return lastStart > start ? lastStart : end;            // one prompt longer than the ubatch: cut it
    }

    /** Points {@link #slice} at tokens [start, start+n) of {@link #batch}. */
    private void setSlice(int start, int n) {
        long a = ADDRESS.byteSize();
        llama_batch.n_tokens(slice, n);
        llama_batch.token(slice, llama_batch.token(batch).reinterpret(4L * params.nCtx()).asSlice(4L * start));
        llama_batch.embd(slice, MemorySegment.NULL);
        llama_batch.pos(slice, llama_batch.pos(batch).reinterpret(4L * params.nCtx()).asSlice(4L * start));
        llama_batch.n_seq_id(slice, llama_batch.n_seq_id(batch).reinterpret(4L * params.nCtx()).asSlice(4L * start));
        llama_batch.seq_id(slice, llama_batch.seq_id(batch).reinterpret(a * params.nCtx()).asSlice(a * start));
        llama_batch.logits(slice, llama_batch.logits(batch).reinterpret(params.nCtx()).asSlice(start));
    }

    static final int OUT_NONE = 0, OUT_LAST = 1, OUT_ALL = 2;

    /**
     * Which tokens are outputs: llama.cpp cuts the last layer down to output rows, so capturing the
     * last layer needs every token as an output; a full forward marks each prompt's last token; an
     * early exit needs none (no logits buffer is filled).
     */
    private int outputsFor(CaptureSpec spec) {
        for (int l : spec.layers()) if (l == model.nLayer() - 1) return OUT_ALL;
        return spec.earlyExit() ? OUT_NONE : OUT_LAST;
    }

    /** Writes the prompts [from, to) into the reusable llama_batch, one sequence id per prompt. */
    private void fillBatch(List<int[]> prompts, int from, int to, int nTokens, int outputs, int[] prompt, int[] pos, int[] tok) {
        MemorySegment tokens = llama_batch.token(batch).reinterpret(4L * params.nCtx());
        MemorySegment positions = llama_batch.pos(batch).reinterpret(4L * params.nCtx());
        MemorySegment nSeq = llama_batch.n_seq_id(batch).reinterpret(4L * params.nCtx());
        MemorySegment seqIds = llama_batch.seq_id(batch).reinterpret(ADDRESS.byteSize() * params.nCtx());
        MemorySegment logits = llama_batch.logits(batch).reinterpret(params.nCtx());
        int r = 0;
        for (int p = from; p < to; p++) {
            int[] t = prompts.get(p);
            for (int k = 0; k < t.length; k++, r++) {
                tokens.setAtIndex(JAVA_INT, r, t[k]);
                positions.setAtIndex(JAVA_INT, r, k);
                nSeq.setAtIndex(JAVA_INT, r, 1);
                seqIds.getAtIndex(ADDRESS, r).reinterpret(4).set(JAVA_INT, 0, p - from);
                boolean out = outputs == OUT_ALL || (outputs == OUT_LAST && k == t.length - 1);
                logits.set(JAVA_BYTE, r, (byte) (out ? 1 : 0));
                prompt[r] = p;
                pos[r] = k;
                tok[r] = t[k];
            }
        }
        if (r != nTokens) throw new IllegalStateException("batch fill mismatch " + r + " != " + nTokens);
        llama_batch.n_tokens(batch, nTokens);
    }

    MemorySegment handle() {
        if (closed) throw new IllegalStateException("context is closed");
        return handle;
    }

    /**
     * Decodes {@code tokens} as sequence 0 at positions {@code pos0..}, keeping the KV cache (call
     * {@link #clearMemory} first for a fresh sequence). Only the last token gets logits. Runs inside the
     * caller's {@link #enter()} section.
     */
    void decodeSequence(int[] tokens, int pos0) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens to decode");
        if (pos0 < 0 || pos0 + tokens.length > params.nCtx()) {
            throw new IllegalArgumentException("positions " + pos0 + ".." + (pos0 + tokens.length - 1) + " exceed the context of " + params.nCtx() + " tokens");
        }
        Vocab v = model.vocab();
        for (int i = 0; i < tokens.length; i++) v.checkToken(tokens[i]);
        MemorySegment tk = llama_batch.token(batch).reinterpret(4L * params.nCtx());
        MemorySegment ps = llama_batch.pos(batch).reinterpret(4L * params.nCtx());
        MemorySegment ns = llama_batch.n_seq_id(batch).reinterpret(4L * params.nCtx());
        MemorySegment sq = llama_batch.seq_id(batch).reinterpret(ADDRESS.byteSize() * params.nCtx());
        MemorySegment lg = llama_batch.logits(batch).reinterpret(params.nCtx());
        for (int i = 0; i < tokens.length; i++) {
            tk.setAtIndex(JAVA_INT, i, tokens[i]);
            ps.setAtIndex(JAVA_INT, i, pos0 + i);
            ns.setAtIndex(JAVA_INT, i, 1);
            sq.getAtIndex(ADDRESS, i).reinterpret(4).set(JAVA_INT, 0, 0);
            lg.set(JAVA_BYTE, i, (byte) (i == tokens.length - 1 ? 1 : 0));
        }
        llama_batch.n_tokens(batch, tokens.length);
        int rc = LlamaH.llama_decode(handle, batch);
        if (abortRequested && rc == 2) throw new Status.CancelledException("decode cancelled");
        Status.checkDecode(rc);
    }

    void clearMemory() {
        LlamaH.llama_memory_clear(LlamaH.llama_get_memory(handle), true);
    }

    /** Logits of the last decoded output token, as a copy [n_vocab]. */
    float[] lastLogits() {
        MemorySegment l = LlamaH.llama_get_logits_ith(handle, -1);
        if (l.equals(MemorySegment.NULL)) throw new LlamaException("llama_get_logits_ith", 0, "no logits for the last token");
        return l.reinterpret(4L * model.vocab().size()).toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
    }

    /** Runs {@code body} inside the one-thread-at-a-time section. */
    <T> T exclusive(java.util.function.Supplier<T> body) {
        enter();
        try {
            return body.get();
        } finally {
            exit();
        }
    }

    /**
     * Next-token logits after a prompt (fresh sequence): the full forward with the lm_head and Gemma's
     * final soft-cap. Honours an active {@link #steer steering scope}.
     */
    public float[] nextTokenLogits(int[] prompt) {
        return exclusive(() -> {
            clearMemory();
            decodeSequence(prompt, 0);
            return lastLogits();
        });
    }

    /**
     * Teacher-forced logits of a whole sequence (fresh sequence, one decode): row i is the next-token
     * distribution after tokens[0..i], so row i scores tokens[i+1]. Honours an active steering scope.
     * Memory is tokens x n_vocab floats: meant for short scored continuations, not whole documents.
     */
    public float[][] logitsForSequence(int[] tokens) {
        Objects.requireNonNull(tokens, "tokens");
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens to score");
        return exclusive(() -> {
            clearMemory();
            decodeAll(tokens);
            int nVocab = model.vocab().size();
            float[][] out = new float[tokens.length][];
            for (int i = 0; i < tokens.length; i++) {
                MemorySegment l = LlamaH.llama_get_logits_ith(handle, i);
                if (l.equals(MemorySegment.NULL)) throw new LlamaException("llama_get_logits_ith", i, "no logits for position " + i);
                out[i] = l.reinterpret(4L * nVocab).toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
            }
            return out;
        });
    }

    /** Like {@link #decodeSequence} from position 0, but every token is an output (has logits). */
    private void decodeAll(int[] tokens) {
        if (tokens.length > params.nCtx()) {
            throw new IllegalArgumentException("sequence of " + tokens.length + " tokens exceeds the context of " + params.nCtx() + " tokens");
        }
        Vocab v = model.vocab();
        for (int t : tokens) v.checkToken(t);
        MemorySegment tk = llama_batch.token(batch).reinterpret(4L * params.nCtx());
        MemorySegment ps = llama_batch.pos(batch).reinterpret(4L * params.nCtx());
        MemorySegment ns = llama_batch.n_seq_id(batch).reinterpret(4L * params.nCtx());
        MemorySegment sq = llama_batch.seq_id(batch).reinterpret(ADDRESS.byteSize() * params.nCtx());
        MemorySegment lg = llama_batch.logits(batch).reinterpret(params.nCtx());
        for (int i = 0; i < tokens.length; i++) {
            tk.setAtIndex(JAVA_INT, i, tokens[i]);
            ps.setAtIndex(JAVA_INT, i, i);
            ns.setAtIndex(JAVA_INT, i, 1);
            sq.getAtIndex(ADDRESS, i).reinterpret(4).set(JAVA_INT, 0, 0);
            lg.set(JAVA_BYTE, i, (byte) 1);
        }
        llama_batch.n_tokens(batch, tokens.length);
        int rc = LlamaH.llama_decode(handle, batch);
        if (abortRequested && rc == 2) throw new Status.CancelledException("decode cancelled");
        Status.checkDecode(rc);
    }

    private Steering activeSteering;

    /**
     * Adds {@code vector} (length n_embd) to the residual stream at the output of {@code layer} (1..n_layer-1),
     * at every position, through llama.cpp's control vector, until the returned scope is closed. One scope at a time.
     */
    public Steering steer(float[] vector, int layer) {
        return exclusive(() -> {
            if (activeSteering != null) throw new IllegalStateException("a steering scope is already open on this context; close it first");
            activeSteering = Steering.apply(this, vector, layer);
            return activeSteering;
        });
    }

    void steeringClosed(Steering s) {
        if (activeSteering == s) activeSteering = null;
    }

    /**
     * Test-only fault injection: {@code hook} runs inside the eval-callback upcall, on the decoding thread,
     * each time a captured layer's tensor arrives (before it is copied). A hook that throws proves the
     * upcall's exception path; one that blocks lets a test land a close() inside a decode. Null removes it.
     */
    void evalHookForTests(Runnable hook) { this.evalHook = hook; }

    /** Whether a cancel (or a close from another thread) has been requested; for tests. */
    boolean abortRequested() { return abortRequested; }

    /** Asks a running decode on this context to stop (llama.cpp's abort callback); it fails with a cancellation. */
    public void cancel() { abortRequested = true; }

    /** Clears a previous {@link #cancel()} so the context can be used again. */
    public void resetCancel() { abortRequested = false; }

    public boolean isClosed() { return closed; }

    @Override
    public void close() {
        if (closed) return;
        Thread me = Thread.currentThread();
        if (!user.compareAndSet(null, me)) {
            if (user.get() == me) throw new IllegalStateException("context closed from inside its own decode");
            abortRequested = true; // stop the decode in flight, then wait for it
            while (!user.compareAndSet(null, me)) Thread.onSpinWait();
        }
        try {
            if (closed) return;
            closed = true;
            LlamaH.llama_batch_free(batch);
            LlamaH.llama_free(handle);
            model.forget(this);
            arena.close();
        } finally {
            user.set(null);
        }
    }
}
