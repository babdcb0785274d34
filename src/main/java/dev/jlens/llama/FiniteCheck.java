package dev.jlens.llama;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Finds NaN and infinity in captured rows once llama_decode has returned (never inside the eval callback, which
 * must not allocate or throw). A float is non-finite exactly when all its exponent bits are set; the scan takes the
 * maximum of the masked exponents over blocks of {@value #BLOCK} (a branch-free int reduction the JIT vectorises) and
 * looks for the exact position only in a block that has one.
 */
final class FiniteCheck {
    static final int EXPONENT = 0x7f800000;
    static final int BLOCK = 1024;

    private FiniteCheck() {}

    /** Index of the first NaN or infinity among the first {@code n} floats of {@code seg}, or -1 when all are finite. */
    static long firstNonFinite(MemorySegment seg, long n) {
        long i = 0;
        for (; i + BLOCK <= n; i += BLOCK) {
            int max = 0;
            for (int k = 0; k < BLOCK; k++) max = Math.max(max, seg.getAtIndex(JAVA_INT, i + k) & EXPONENT);
            if (max == EXPONENT) break;
        }
        for (; i < n; i++) if ((seg.getAtIndex(JAVA_INT, i) & EXPONENT) == EXPONENT) return i;
        return -1;
    }

    /** Throws {@link NonFiniteActivationsException} naming the model if any captured row holds NaN or infinity. */
    static void requireFinite(Model model, int[] layers, MemorySegment[] rows, int nTokens, int nEmbd, int[] prompt, int[] position) {
        for (int l = 0; l < layers.length; l++) {
            long at = firstNonFinite(rows[l], (long) nTokens * nEmbd);
            if (at >= 0) {
                int row = (int) (at / nEmbd);
                throw new NonFiniteActivationsException(model.path(), layers[l], prompt[row], position[row], (int) (at % nEmbd),
                        rows[l].getAtIndex(JAVA_FLOAT, at));
            }
        }
    }
}
