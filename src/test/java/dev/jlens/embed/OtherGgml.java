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
 * "Another wrapper": a second ggml build (upstream library names, built by scripts/build-other-ggml.sh) used
 * through its own raw FFM downcalls, the way another Java library would. Like a release build of llama.cpp it
 * loads its CPU backend as a module, {@code libggml-cpu-<variant>.so} (x64 and haswell are built), with its own
 * ggml_backend_load_all_from_path, so on an AVX2 machine its module has the same file name as jlens'. It adds
 * two f32 vectors with a ggml graph on that backend.
 */
final class OtherGgml {
    static final StructLayout INIT_PARAMS = MemoryLayout.structLayout(JAVA_LONG.withName("mem_size"), ADDRESS.withName("mem_buffer"),
            JAVA_BOOLEAN.withName("no_alloc"), MemoryLayout.paddingLayout(7));

    final SymbolLookup lookup;
    private final MethodHandle init, free, newTensor1d, add, newGraph, expand, commit, backendInit, allocTensors, tensorSet, tensorGet,
            graphCompute, bufferFree;
    private final MemorySegment backend;

    OtherGgml(Path dir, Arena arena) throws Throwable {
        // load order = dependency order; libggml's DT_NEEDED libggml-base.so.0 is the one just loaded
        SymbolLookup base = SymbolLookup.libraryLookup(dir.resolve("libggml-base.so.0"), arena);
        SymbolLookup ggml = SymbolLookup.libraryLookup(dir.resolve("libggml.so.0"), arena);
        lookup = base.or(ggml);
        Linker l = Linker.nativeLinker();
        init = l.downcallHandle(find("ggml_init"), FunctionDescriptor.of(ADDRESS, INIT_PARAMS));
        free = l.downcallHandle(find("ggml_free"), FunctionDescriptor.ofVoid(ADDRESS));
        newTensor1d = l.downcallHandle(find("ggml_new_tensor_1d"), FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG));
        add = l.downcallHandle(find("ggml_add"), FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
        newGraph = l.downcallHandle(find("ggml_new_graph"), FunctionDescriptor.of(ADDRESS, ADDRESS));
        expand = l.downcallHandle(find("ggml_build_forward_expand"), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS));
        commit = l.downcallHandle(find("ggml_commit"), FunctionDescriptor.of(ADDRESS));
        backendInit = l.downcallHandle(find("ggml_backend_init_by_type"), FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS));
        allocTensors = l.downcallHandle(find("ggml_backend_alloc_ctx_tensors"), FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
        tensorSet = l.downcallHandle(find("ggml_backend_tensor_set"), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
        tensorGet = l.downcallHandle(find("ggml_backend_tensor_get"), FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG));
        graphCompute = l.downcallHandle(find("ggml_backend_graph_compute"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        bufferFree = l.downcallHandle(find("ggml_backend_buffer_free"), FunctionDescriptor.ofVoid(ADDRESS));
        MethodHandle loadAll = l.downcallHandle(find("ggml_backend_load_all_from_path"), FunctionDescriptor.ofVoid(ADDRESS));
        try (Arena a = Arena.ofConfined()) {
            loadAll.invokeExact(a.allocateFrom(dir.toString()));
        }
        backend = (MemorySegment) backendInit.invokeExact(0 /* GGML_BACKEND_DEVICE_TYPE_CPU */, MemorySegment.NULL);
        if (backend.equals(MemorySegment.NULL)) throw new IllegalStateException("the second ggml loaded no CPU backend from " + dir);
        // (the backend lives as long as the process, like a wrapper's would)
    }

    MemorySegment find(String name) {
        return lookup.find(name).orElseThrow(() -> new IllegalStateException("the second ggml has no " + name));
    }

    String commit() throws Throwable {
        return ((MemorySegment) commit.invokeExact()).reinterpret(64).getString(0);
    }

    /** a + b on this ggml's CPU backend module. */
    float[] add(float[] a, float[] b) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment p = arena.allocate(INIT_PARAMS);
            p.set(JAVA_LONG, 0, 1L << 20);
            p.set(ADDRESS, 8, MemorySegment.NULL);
            p.set(JAVA_BOOLEAN, 16, true); // tensors live in a backend buffer
            MemorySegment ctx = (MemorySegment) init.invokeExact(p);
            if (ctx.equals(MemorySegment.NULL)) throw new IllegalStateException("ggml_init failed");
            MemorySegment buf = MemorySegment.NULL;
            try {
                MemorySegment ta = (MemorySegment) newTensor1d.invokeExact(ctx, 0, (long) a.length);
                MemorySegment tb = (MemorySegment) newTensor1d.invokeExact(ctx, 0, (long) b.length);
                MemorySegment c = (MemorySegment) add.invokeExact(ctx, ta, tb);
                MemorySegment g = (MemorySegment) newGraph.invokeExact(ctx);
                expand.invokeExact(g, c);
                buf = (MemorySegment) allocTensors.invokeExact(ctx, backend);
                if (buf.equals(MemorySegment.NULL)) throw new IllegalStateException("ggml_backend_alloc_ctx_tensors failed");
                long bytes = 4L * a.length;
                tensorSet.invokeExact(ta, arena.allocateFrom(JAVA_FLOAT, a), 0L, bytes);
                tensorSet.invokeExact(tb, arena.allocateFrom(JAVA_FLOAT, b), 0L, bytes);
                int status = (int) graphCompute.invokeExact(backend, g);
                if (status != 0) throw new IllegalStateException("ggml_backend_graph_compute returned " + status);
                MemorySegment out = arena.allocate(JAVA_FLOAT, a.length);
                tensorGet.invokeExact(c, out, 0L, bytes);
                return out.toArray(JAVA_FLOAT);
            } finally {
                if (!buf.equals(MemorySegment.NULL)) bufferFree.invokeExact(buf);
                free.invokeExact(ctx);
            }
        }
    }
}
