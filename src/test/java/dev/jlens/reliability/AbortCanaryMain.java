package dev.jlens.reliability;

import dev.jlens.llama.NativeProbe;

/**
 * Child-JVM body of {@link AbortCanaryTest}: makes one raw ggml call (ggml_new_tensor_1d with the type in
 * args[0]) that the pinned ggml answers with GGML_ASSERT for an invalid type (abort, exit 134). Prints
 * "RETURNED" and exits 0 if the call comes back instead.
 */
public final class AbortCanaryMain {
    public static void main(String[] args) {
        System.err.println("canary: calling ggml_new_tensor_1d with type " + args[0]);
        System.err.flush();
        NativeProbe.newTensor1d(Integer.parseInt(args[0]));
        System.out.println("RETURNED");
    }
}
