package dev.jlens.errors;

/**
 * A llama.cpp / ggml call failed, or the native libraries cannot be loaded (not found, wrong build, no CPU backend for
 * this machine). Carries the native operation and its status where there is one. A failed run, not bad input:
 * input problems are found before native code runs ({@link InvalidModelFileException}, {@link InvalidFileException}).
 */
public class NativeException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** The native function or step that failed, or an empty string. */
    private final String operation;
    /** Its status code, or 0. */
    private final int status;

    /**
     * A failed native call.
     *
     * @param operation the native function or step, e.g. {@code llama_decode}
     * @param status    its status code, or 0 when it returned none
     * @param message   what failed and why
     */
    public NativeException(String operation, int status, String message) {
        super(operation + " failed" + (status != 0 ? " (status " + status + ")" : "") + ": " + message);
        this.operation = operation;
        this.status = status;
    }

    /**
     * A native failure that is not one call's status (loading, version check...).
     *
     * @param message what failed and why
     * @param cause   the exception that revealed it, or null
     */
    public NativeException(String message, Throwable cause) {
        super(message, cause);
        this.operation = "";
        this.status = 0;
    }

    /**
     * The native operation that failed.
     *
     * @return its name, or an empty string when the failure is not one call's
     */
    public String operation() { return operation; }

    /**
     * The native status code.
     *
     * @return the status the call returned, or 0
     */
    public int status() { return status; }
}
