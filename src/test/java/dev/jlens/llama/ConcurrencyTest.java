package dev.jlens.llama;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** A Model is shared across threads; a Context is confined to one thread at a time. */
class ConcurrencyTest {
    @Test
    void severalContextsOnOneModelCaptureInParallelAndMatchOneAtATime() throws Exception {
        try (Model m = Model.load(TinyModel.f32())) {
            List<List<int[]>> work = new ArrayList<>();
            String[] texts = {"the capital of France is Paris", "hello world", "the river Seine flows through the old city", "bread and cheese and wine"};
            for (int w = 0; w < 4; w++) {
                List<int[]> prompts = new ArrayList<>();
                for (int i = 0; i < 12; i++) prompts.add(m.vocab().tokenize(texts[(w + i) % texts.length]));
                work.add(prompts);
            }
            Context.Params p = Context.Params.defaults().withCtx(512).withThreads(1);
            List<float[]> sequential = new ArrayList<>();
            try (Context c = m.newContext(p)) {
                for (List<int[]> prompts : work) {
                    try (Activations a = c.capture(prompts, Context.CaptureSpec.layer(12))) {
                        sequential.add(a.data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT));
                    }
                }
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> results = new ArrayList<>();
                CountDownLatch start = new CountDownLatch(1);
                for (List<int[]> prompts : work) {
                    results.add(pool.submit(() -> {
                        try (Context c = m.newContext(p)) {
                            start.await();
                            try (Activations a = c.capture(prompts, Context.CaptureSpec.layer(12))) {
                                return a.data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
                            }
                        }
                    }));
                }
                start.countDown();
                for (int w = 0; w < work.size(); w++) {
                    assertArrayEquals(sequential.get(w), results.get(w).get(60, TimeUnit.SECONDS), "worker " + w);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aSecondThreadEnteringABusyContextGetsAClearExceptionNotACrash() throws Exception {
        try (Model m = Model.load(TinyModel.f32()); Context c = m.newContext(Context.Params.defaults().withCtx(256).withThreads(1))) {
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch tried = new CountDownLatch(1);
            AtomicReference<Throwable> seen = new AtomicReference<>();
            Thread other = new Thread(() -> {
                try {
                    inside.await();
                    c.capture(List.of(m.vocab().tokenize("hello")), Context.CaptureSpec.layer(12)).close();
                } catch (Throwable t) {
                    seen.set(t);
                } finally {
                    tried.countDown();
                }
            }, "intruder");
            other.start();
            Thread.currentThread().setName("owner");
            // the token listener runs inside the context's one-thread section: hold it there until the other thread tried
            Generation.generate(c, m.vocab().tokenize("the old cat"), Generation.Params.greedy(2), (tok, piece) -> {
                inside.countDown();
                try {
                    tried.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            other.join(30_000);
            assertInstanceOf(IllegalStateException.class, seen.get());
            assertTrue(seen.get().getMessage().contains("in use by thread 'owner'"), seen.get().getMessage());
            try (Activations a = c.capture(List.of(m.vocab().tokenize("hello")), Context.CaptureSpec.layer(12))) {
                assertEquals(2, a.rows(), "the context still works");
            }
        }
    }
}
