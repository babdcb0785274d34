package dev.jlens.spark;

import dev.jlens.atlas.AtlasSettings;
import dev.jlens.atlas.ShardWork;
import dev.jlens.llama.Model;
import dev.jlens.sae.Sae;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The heavy resources of an executor JVM: the model and the SAEs are opened once per JVM and per (model, SAEs,
 * their contents' hashes), on the first task that needs them, and stay open for the JVM's life (Spark reuses
 * executor JVMs across tasks and jobs, so the second pass and later runs find them loaded). Tasks running at the same time share the model and
 * SAEs (both may be used from several threads) and each borrows a {@link ShardWork} of its own (a llama context and
 * encoders, confined to one thread) from a pool. Never captured in a task's closure: tasks carry only a
 * {@link TaskSpec} and look the resources up here.
 */
final class ExecutorResources {
    private record Key(String model, List<String> saes, String content) {}

    private static final class Opened {
        final Model model;
        final List<Sae> saes;
        final Map<AtlasSettings, Deque<ShardWork>> idle = new ConcurrentHashMap<>();

        Opened(Model model, List<Sae> saes) {
            this.model = model;
            this.saes = saes;
        }
    }

    private static final Map<Key, Opened> OPEN = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ExecutorResources() {}

    /** Runs {@code work} with a shard worker of this JVM for the spec's model, SAEs and settings. */
    static <T> T withWork(TaskSpec spec, Function<ShardWork, T> work) {
        Opened o = OPEN.computeIfAbsent(new Key(spec.model(), spec.saes(), spec.content()), ExecutorResources::open);
        AtlasSettings s = spec.settings();
        Deque<ShardWork> pool = o.idle.computeIfAbsent(s, k -> new ConcurrentLinkedDeque<>());
        ShardWork w = pool.pollFirst();
        if (w == null) w = new ShardWork(o.model, o.saes, s);
        boolean ok = false;
        try {
            T result = work.apply(w);
            ok = true;
            return result;
        } finally {
            // a worker whose decode failed may hold a half-filled context: drop it rather than reuse it
            if (ok) pool.addFirst(w);
            else w.close();
        }
    }

    /** How many times this JVM has opened a model with its SAEs (once per distinct (model, SAEs) when all is well). */
    static int loads() {
        return LOADS.get();
    }

    private static Opened open(Key k) {
        Model model = Model.load(Path.of(k.model()));
        List<Sae> saes = new ArrayList<>();
        try {
            for (String id : k.saes()) saes.add(Sae.load(id));
        } catch (IOException | RuntimeException e) {
            for (Sae s : saes) s.close();
            model.close();
            if (e instanceof IOException io) throw new UncheckedIOException("executor: loading SAE for " + k.model() + ": " + io.getMessage(), io);
            throw (RuntimeException) e;
        }
        LOADS.incrementAndGet();
        return new Opened(model, List.copyOf(saes));
    }
}
