package dev.jlens.llama;

import dev.jlens.errors.NativeException;

/**
 * A llama.cpp / ggml call failed or the native library is unusable. Carries the operation and the native status.
 * Callers of the API catch it as the exported {@link NativeException}.
 */
public class LlamaException extends NativeException {
    public LlamaException(String operation, int status, String message) {
        super(operation, status, message);
    }

    public LlamaException(String message, Throwable cause) {
        super(message, cause);
    }
}
