package dev.jlens.llama;

/** Opens Context's package-private fault-injection hooks to the reliability tests (dev.jlens.reliability). */
public final class ReliabilityHooks {
    private ReliabilityHooks() {}

    public static void evalHook(Context c, Runnable hook) { c.evalHookForTests(hook); }

    public static boolean abortRequested(Context c) { return c.abortRequested(); }
}
