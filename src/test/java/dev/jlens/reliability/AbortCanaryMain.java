package dev.jlens.reliability;

import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.ggml_init_params;
import dev.jlens.llama.NativeLibrary;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Child-JVM body of {@link AbortCanaryTest}: makes one raw native call that the pinned ggml answers with
 * GGML_ASSERT (abort, exit 134). Prints "RETURNED" and exits 0 if the call comes back instead.
 */
public final class AbortCanaryMain {
    public static void main(String[] args) {
        NativeLibrary.load();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment params = a.allocate(ggml_init_params.layout());
            ggml_init_params.mem_size(params, 1 << 16);
            ggml_init_params.mem_buffer(params, MemorySegment.NULL);
            ggml_init_params.no_alloc(params, true);
            MemorySegment ctx = LlamaH.ggml_init(params);
            System.err.println("canary: calling ggml_new_tensor_1d with type " + args[0]);
            System.err.flush();
            LlamaH.ggml_new_tensor_1d(ctx, Integer.parseInt(args[0]), 16);
            LlamaH.ggml_free(ctx);
        }
        System.out.println("RETURNED");
    }
}
