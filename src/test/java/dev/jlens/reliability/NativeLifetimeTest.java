package dev.jlens.reliability;

import dev.jlens.llama.Activations;
import dev.jlens.llama.Context;
import dev.jlens.llama.LlamaException;
import dev.jlens.llama.Model;
import dev.jlens.llama.ReliabilityHooks;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** Native lifetimes on the real llama.cpp: close during a decode, double close, use after close, two threads, faults in the upcall, leaks. */
class NativeLifetimeTest {
    static Model model;
    static List<int[]> prompts;

    @BeforeAll
    static void load() {
        model = Model.load(Fixtures.tinyModel());
        prompts = new ArrayList<>();
        for (String p : List.of("The capital of France is Paris.", "A cat sat on the mat.", "Bread and cheese and wine"))
            prompts.add(model.vocab().tokenize(p));
    }

    @AfterAll
    static void close() { model.close(); }

    static Context newContext() {
        return model.newContext(Context.Params.defaults().withCtx(256).withUbatch(256).withThreads(2));
    }

    /** Layer 1 without early exit: the graph goes on after the tap, so an abort request is seen by ggml's abort callback. */
    static final Context.CaptureSpec MID_GRAPH = new Context.CaptureSpec(new int[] {1}, false);

    static boolean await(java.util.function.BooleanSupplier cond) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) return false;
            Thread.sleep(1);
        }
        return true;
    }

    @Test
    void closeFromAnotherThreadCancelsTheRunningDecodeWaitsForItAndTheCapturerGetsACancellation() throws Exception {
        Context ctx = newContext();
        CountDownLatch inDecode = new CountDownLatch(1);
        // the hook holds the decode inside its first eval callback until close() has requested the abort,
        // so the close lands inside llama_decode every time (not between batches)
        ReliabilityHooks.evalHook(ctx, () -> {
            inDecode.countDown();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!ReliabilityHooks.abortRequested(ctx) && System.nanoTime() < end) Thread.onSpinWait();
        });
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread capturer = new Thread(() -> {
            try (Activations a = ctx.capture(prompts, MID_GRAPH)) {
                failure.set(new AssertionError("capture finished although the context was closed during it: " + a.rows() + " rows"));
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "capturer");
        capturer.start();
        assertTrue(inDecode.await(20, TimeUnit.SECONDS), "decode started");
        ctx.close(); // returns only after the decode stopped
        assertTrue(ctx.isClosed());
        capturer.join(20_000);
        assertFalse(capturer.isAlive());
        Throwable t = failure.get();
        LlamaException e = assertInstanceOf(LlamaException.class, t, String.valueOf(t));
        assertEquals(2, e.status(), "llama_decode status 2 = aborted by the abort callback: " + e.getMessage());
        assertTrue(e.getMessage().contains("cancelled") || e.getMessage().contains("aborted"), e.getMessage());
        // the model and a fresh context are unharmed
        try (Context again = newContext(); Activations a = again.capture(prompts, Context.CaptureSpec.layer(5))) {
            assertEquals(prompts.stream().mapToInt(p -> p.length).sum(), a.rows());
        }
    }

    @Test
    void moreSequencesThanContextTokensIsRejectedInJavaBecauseLlamaCppWouldAbort() {
        // found by this suite: n_ctx=32 with n_seq_max=64 hit GGML_ASSERT(n_outputs_max <= cparams.n_outputs_max) and killed the JVM
        var e = assertThrows(IllegalArgumentException.class, () -> new Context.Params(32, 32, 64, 2, false, false, true));
        assertTrue(e.getMessage().contains("nSeqMax (64) must not exceed nCtx (32)"), e.getMessage());
        assertEquals(32, Context.Params.defaults().withCtx(32).nSeqMax(), "withCtx clamps the default of 64 sequences");
    }

    @Test
    void doubleCloseIsANoOpAndEveryUseAfterCloseThrowsIllegalState() {
        Context ctx = newContext();
        ctx.close();
        ctx.close();
        assertTrue(ctx.isClosed());
        var capture = assertThrows(IllegalStateException.class, () -> ctx.capture(prompts, Context.CaptureSpec.layer(5)));
        assertTrue(capture.getMessage().contains("closed"), capture.getMessage());
        var logits = assertThrows(IllegalStateException.class, () -> ctx.nextTokenLogits(prompts.get(0)));
        assertTrue(logits.getMessage().contains("closed"), logits.getMessage());
        assertThrows(IllegalStateException.class, () -> ctx.steer(new float[model.nEmbd()], 5));
        // the model itself is still open and usable
        assertFalse(model.isClosed());
        try (Context again = newContext()) {
            assertEquals(model.vocab().size(), again.nextTokenLogits(prompts.get(0)).length);
        }
    }

    @Test
    void aSecondThreadOnABusyContextGetsIllegalStateNamingTheFirstThread() throws Exception {
        try (Context ctx = newContext()) {
            CountDownLatch inDecode = new CountDownLatch(1), release = new CountDownLatch(1);
            ReliabilityHooks.evalHook(ctx, () -> {
                inDecode.countDown();
                try {
                    release.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            AtomicReference<Object> first = new AtomicReference<>();
            Thread holder = new Thread(() -> {
                try (Activations a = ctx.capture(prompts, Context.CaptureSpec.layer(5))) {
                    first.set(a.rows());
                } catch (Throwable t) {
                    first.set(t);
                }
            }, "capture-holder-7");
            holder.start();
            assertTrue(inDecode.await(20, TimeUnit.SECONDS));
            var e = assertThrows(IllegalStateException.class, () -> ctx.capture(prompts, Context.CaptureSpec.layer(5)));
            assertTrue(e.getMessage().contains("capture-holder-7"), e.getMessage());
            var e2 = assertThrows(IllegalStateException.class, () -> ctx.nextTokenLogits(prompts.get(0)));
            assertTrue(e2.getMessage().contains("capture-holder-7"), e2.getMessage());
            release.countDown();
            holder.join(20_000);
            assertEquals(prompts.stream().mapToInt(p -> p.length).sum(), first.get(), "the first thread's capture completed normally");
        }
    }

    @Test
    void anExceptionThrownInsideTheEvalCallbackComesBackAsLlamaExceptionAndTheContextStaysUsable() {
        try (Context ctx = newContext(); Context reference = newContext()) {
            ReliabilityHooks.evalHook(ctx, () -> { throw new IllegalStateException("injected fault in the upcall"); });
            var e = assertThrows(LlamaException.class, () -> ctx.capture(prompts, Context.CaptureSpec.layer(5)));
            assertTrue(e.getMessage().contains("eval callback"), e.getMessage());
            assertEquals("injected fault in the upcall", e.getCause().getMessage());
            ReliabilityHooks.evalHook(ctx, null);
            try (Activations after = ctx.capture(prompts, Context.CaptureSpec.layer(5));
                 Activations ref = reference.capture(prompts, Context.CaptureSpec.layer(5))) {
                assertEquals(-1L, after.data().mismatch(ref.data()), "the same capture on a context that never failed");
            }
        }
    }

    @Test
    void hundredLoadCloseCyclesKeepRssFlat() throws IOException {
        Path p = Fixtures.smallVocabModel();
        for (int i = 0; i < 10; i++) cycle(p); // warm-up: malloc arenas, lazy native init, JIT
        System.gc();
        long before = Fixtures.rssKb(), heapBefore = Fixtures.heapCommittedKb();
        long t0 = System.nanoTime();
        for (int i = 0; i < 100; i++) cycle(p);
        System.gc();
        long after = Fixtures.rssKb(), heapAfter = Fixtures.heapCommittedKb();
        long nativeGrowth = (after - before) - (heapAfter - heapBefore);
        System.out.printf("RSS before %d kB, after 100 load/capture/close cycles %d kB (delta %+d kB; committed heap delta %+d kB;"
                        + " non-heap delta %+d kB) in %.1f s%n",
                before, after, after - before, heapAfter - heapBefore, nativeGrowth, (System.nanoTime() - t0) / 1e9);
        // one cycle holds ~3 MB native (weights mmapped, KV cache, compute buffers): a leak of either would add
        // 300+ MB over 100 cycles; glibc arena noise stays well under the bound. Heap growth is the JVM's
        // choice (G1 keeps what it committed), so it is taken out of the RSS delta.
        assertTrue(nativeGrowth < 48_000, "non-heap RSS grew by " + nativeGrowth + " kB over 100 cycles");
    }

    private static void cycle(Path p) {
        try (Model m = Model.load(p); Context c = m.newContext(Context.Params.defaults().withCtx(128).withUbatch(128).withThreads(2))) {
            try (Activations a = c.capture(List.of(m.vocab().tokenize("hello world")), Context.CaptureSpec.layer(12))) {
                assertTrue(a.rows() >= 2);
            }
        }
    }
}
