package dev.jlens.bindings;

import java.lang.foreign.SymbolLookup;
import java.util.Objects;

/**
 * The symbol lookup the generated bindings resolve through. Hand-written (the only file in this
 * package that is): scripts/generate-bindings.sh points jextract's output at {@link #lookup()}
 * instead of the class loader's global lookup, so that the native layer decides which library
 * files (by path, loaded RTLD_LOCAL) the bindings bind to.
 */
public final class NativeSymbols {
    private static volatile SymbolLookup installed;

    private NativeSymbols() {}

    /** Installs the lookup; must happen once, before any generated class is initialised. */
    public static synchronized void install(SymbolLookup lookup) {
        Objects.requireNonNull(lookup, "lookup");
        if (installed != null && installed != lookup) {
            throw new IllegalStateException("llama.cpp bindings are already bound to another library");
        }
        installed = lookup;
    }

    public static boolean isInstalled() {
        return installed != null;
    }

    /** Called by the generated LlamaH during class initialisation. */
    public static SymbolLookup lookup() {
        SymbolLookup l = installed;
        if (l == null) {
            throw new IllegalStateException(
                    "llama.cpp library not loaded: use dev.jlens.llama.NativeLibrary.load() before any binding");
        }
        return l;
    }
}
