/**
 * The public Java API of jlens: load a Gemma 2 GGUF, capture the residual stream after a layer for a list of
 * prompts (off-heap, owned by an AutoCloseable), load a Gemma Scope / SAELens sparse autoencoder, encode, run the
 * concept experiment (contrast + cross-resolution map + GO/NO-GO), and steer generation with feature directions.
 *
 * <p>Ownership: every type that holds native memory or a native handle is {@link java.lang.AutoCloseable} and owns
 * it; close children (sessions, activations) before parents (models). Threads: a {@link dev.jlens.api.LensModel}
 * may be shared; a {@link dev.jlens.api.LensSession} is used by one thread at a time (a second thread gets an
 * IllegalStateException, never a crash). Shapes are row-major float32 {@code [rows x d_model]}; layers are
 * 0-based ({@code l_out-12} = TransformerLens {@code blocks.12.hook_resid_post}).
 *
 * <p>JVM flags: {@code --enable-native-access=dev.jlens} (or ALL-UNNAMED on the class path) and
 * {@code --add-modules jdk.incubator.vector}. Native libraries: {@code -Djlens.native.dir} / {@code JLENS_NATIVE_DIR},
 * otherwise the copy packaged in the jar is extracted to a per-version cache folder on first use.
 */
package dev.jlens.api;
