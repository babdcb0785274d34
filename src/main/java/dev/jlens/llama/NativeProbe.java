package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.ggml_init_params;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A raw ggml call with a caller-chosen tensor type, for the abort canary and isolated mode's crash
 * drill: the pinned ggml answers an invalid type (>= GGML_TYPE_COUNT) with GGML_ASSERT, which aborts the
 * whole process (exit 134). Never call it with an invalid type in a process you want to keep.
 */
public final class NativeProbe {
    private NativeProbe() {}

    /** ggml_init (64 KiB, no_alloc) + ggml_new_tensor_1d(type, 16) + ggml_free; returns only if ggml accepted the type. */
    public static void newTensor1d(int ggmlType) {
        NativeLibrary.load();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment params = a.allocate(ggml_init_params.layout());
            ggml_init_params.mem_size(params, 1 << 16);
            ggml_init_params.mem_buffer(params, MemorySegment.NULL);
            ggml_init_params.no_alloc(params, true);
            MemorySegment ctx = LlamaH.ggml_init(params);
            if (ctx.equals(MemorySegment.NULL)) throw new LlamaException("ggml_init", 0, "returned NULL");
            try {
                LlamaH.ggml_new_tensor_1d(ctx, ggmlType, 16);
            } finally {
                LlamaH.ggml_free(ctx);
            }
        }
    }
}
