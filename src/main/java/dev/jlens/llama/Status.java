package dev.jlens.llama;

/** The one place where native status codes become exceptions. */
final class Status {
    private Status() {}

    /**
     * llama_decode: 0 ok; 1 no KV slot for the batch; 2 aborted (abort callback); -1 invalid batch;
     * -2 allocation failed; -3 compute failed (llama.h documents these above llama_decode).
     */
    static void checkDecode(int rc) {
        switch (rc) {
            case 0 -> { }
            case 1 -> throw new LlamaException("llama_decode", rc,
                    "no KV-cache slot for the batch: the context is too small for these prompts (raise --ctx)");
            case 2 -> throw new CancelledException("llama_decode was aborted by the abort callback");
            case -1 -> throw new LlamaException("llama_decode", rc, "llama.cpp rejected the batch as invalid");
            case -2 -> throw new LlamaException("llama_decode", rc, "ggml could not allocate the compute buffers");
            case -3 -> throw new LlamaException("llama_decode", rc, "graph compute failed");
            default -> throw new LlamaException("llama_decode", rc, "unexpected status");
        }
    }

    static void checkZero(String op, int rc, String what) {
        if (rc != 0) throw new LlamaException(op, rc, what);
    }

    /** A computation was cancelled through llama.cpp's abort callback. */
    static final class CancelledException extends LlamaException {
        CancelledException(String message) { super("llama_decode", 2, message); }
    }
}
