package dev.jlens.kernels;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Optional;

/**
 * Picks the kernel implementation, like Lucene's internal vectorization provider: the Vector API class
 * is instantiated by name, so a JVM without {@code --add-modules jdk.incubator.vector} still runs the
 * scalar kernels, and the log says why.
 */
public final class KernelProvider {
    private static final Logger LOG = System.getLogger(KernelProvider.class.getName());
    private static final String PANAMA = "dev.jlens.kernels.PanamaKernels";

    private KernelProvider() {}

    public static Kernels scalar() { return new ScalarKernels(); }

    /** The Vector API kernels, or empty (with the reason logged) when they cannot run here. */
    public static Optional<Kernels> vector() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            LOG.log(Level.INFO, "Vector API unavailable: module jdk.incubator.vector not in the boot layer "
                    + "(run with --add-modules jdk.incubator.vector); using scalar kernels");
            return Optional.empty();
        }
        try {
            Kernels k = (Kernels) Class.forName(PANAMA).getDeclaredConstructor().newInstance();
            return Optional.of(k);
        } catch (ReflectiveOperationException | LinkageError | UnsupportedOperationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            LOG.log(Level.WARNING, "Vector API kernels failed to start (" + cause + "); using scalar kernels");
            return Optional.empty();
        }
    }

    /** Vector kernels when available, else scalar. */
    public static Kernels best() {
        return vector().orElseGet(ScalarKernels::new);
    }
}
