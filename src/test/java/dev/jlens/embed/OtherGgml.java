package dev.jlens.embed;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * "Another wrapper": a second ggml build (upstream library names, built by scripts/build-other-ggml.sh)
 * used through its own raw FFM downcalls, the way another Java library would. It adds two f32 vectors
 * with a ggml graph on its CPU backend.
 */
final class OtherGgml {
    static final StructLayout INIT_PARAMS = MemoryLayout.structLayout(JAVA_LONG.withName("mem_size"), ADDRESS.withName("mem_buffer"),
            JAVA_BOOLEAN.withName("no_alloc"), MemoryLayout.paddingLayout(7));

    final SymbolLookup lookup;
    private final MethodHandle init, free, newTensor1d, add, newGraph, expand, getData, compute, commit;

    OtherGgml(Path dir, Arena arena) {
        // load order = dependency order; libggml-cpu's DT_NEEDED libggml-base.so.0 is the one just loaded
        SymbolLookup base = SymbolLookup.libraryLookup(dir.resolve("libggml-base.so.0"), arena);
        SymbolLookup cpu = SymbolLookup.libraryLookup(dir.resolve("libggml-cpu.so.0"), arena);
        lookup = base.or(cpu);
        Linker l = Linker.nativeLinker();
        init = l.downcallHandle(find("ggml_init"), FunctionDescriptor.of(ADDRESS, INIT_PARAMS));
        free = l.downcallHandle(find("ggml_free"), FunctionDescriptor.ofVoid(ADDRESS));
        newTensor1d = l.downcallHandle(find("ggml_new_tensor_1d"), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG));
        add = l.downcallHandle(find("ggml_add"), FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        newGraph = l.downcallHandle(find("ggml_new_graph"), FunctionDescriptor.of(ADDRESS, ADDRESS));
        expand = l.downcallHandle(find("ggml_build_forward_expand"), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
        getData = l.downcallHandle(find("ggml_get_data_f32"), FunctionDescriptor.of(ADDRESS, ADDRESS));
        compute = l.downcallHandle(find("ggml_graph_compute_with_ctx"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        commit = l.downcallHandle(find("ggml_commit"), FunctionDescriptor.of(ADDRESS));
    }

    MemorySegment find(String name) {
        return lookup.find(name).orElseThrow(() -> new IllegalStateException("the second ggml has no " + name));
    }

    String commit() throws Throwable {
        return ((MemorySegment) commit.invokeExact()).reinterpret(64).getString(0);
    }

    /** a + b on this ggml's CPU backend. */
    float[] add(float[] a, float[] b) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(INIT_PARAMS);
            p.set(JAVA_LONG, 0, 16L << 20);
            p.set(ADDRESS, 8, MemorySegment.NULL);
            p.set(JAVA_BOOLEAN, 16, false);
            MemorySegment ctx = (MemorySegment) init.invokeExact(p);
            if (ctx.equals(MemorySegment.NULL)) throw new IllegalStateException("ggml_init failed");
            try {
                MemorySegment ta = (MemorySegment) newTensor1d.invokeExact(ctx, 0, (long) a.length);
                MemorySegment tb = (MemorySegment) newTensor1d.invokeExact(ctx, 0, (long) b.length);
                MemorySegment.copy(a, 0, ((MemorySegment) getData.invokeExact(ta)).reinterpret(4L * a.length), JAVA_FLOAT, 0, a.length);
                MemorySegment.copy(b, 0, ((MemorySegment) getData.invokeExact(tb)).reinterpret(4L * b.length), JAVA_FLOAT, 0, b.length);
                MemorySegment c = (MemorySegment) add.invokeExact(ctx, ta, tb);
                MemorySegment g = (MemorySegment) newGraph.invokeExact(ctx);
                expand.invokeExact(g, c);
                int status = (int) compute.invokeExact(ctx, g, 1);
                if (status != 0) throw new IllegalStateException("ggml_graph_compute_with_ctx returned " + status);
                return ((MemorySegment) getData.invokeExact(c)).reinterpret(4L * a.length).toArray(JAVA_FLOAT);
            } finally {
                free.invokeExact(ctx);
            }
        }
    }
}
