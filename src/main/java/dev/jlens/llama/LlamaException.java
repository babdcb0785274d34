package dev.jlens.llama;

/** A llama.cpp / ggml call failed or the native library is unusable. Carries the operation and the native status. */
public class LlamaException extends RuntimeException {
    private final String operation;
    private final int status;

    public LlamaException(String operation, int status, String message) {
        super(operation + " failed" + (status != 0 ? " (status " + status + ")" : "") + ": " + message);
        this.operation = operation;
        this.status = status;
    }

    public LlamaException(String message, Throwable cause) {
        super(message, cause);
        this.operation = "";
        this.status = 0;
    }

    public String operation() { return operation; }

    public int status() { return status; }
}
