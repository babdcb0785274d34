// Written by scripts/generate-bindings.sh (not by hand): the llama.cpp these bindings come from.
package dev.jlens.bindings;

/** The pinned llama.cpp version the bindings were generated from; checked against ggml_commit() at load. */
public final class BindingsVersion {
    private BindingsVersion() {}

    /** Full git commit of the pinned llama.cpp source. */
    public static final String COMMIT = "80fb11ac73e66d89eae2c6a91d8a77428fa733ed";
    /** Release tag of the pinned llama.cpp source. */
    public static final String RELEASE_TAG = "v0.4.0";
}
