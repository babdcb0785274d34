/**
 * The public Java API of jlens: load a Gemma 2 GGUF, capture the residual stream after a layer for a list of
 * prompts (off-heap, owned by an AutoCloseable), load a Gemma Scope / SAELens sparse autoencoder, encode, run the
 * concept experiment (contrast + cross-resolution map + GO/NO-GO), and steer generation with feature directions.
 * The jlens command line uses nothing else.
 *
 * <p>Entry points:
 * <ul>
 *   <li>in memory: {@link dev.jlens.api.LensModel} → {@link dev.jlens.api.LensSession} (capture, steer, generate) →
 *       {@link dev.jlens.api.LayerActivations}; {@link dev.jlens.api.SparseAutoencoder} →
 *       {@link dev.jlens.api.FeatureActivations};</li>
 *   <li>on files: {@link dev.jlens.api.CaptureFolder} (activations.npy + tokens.csv), {@link dev.jlens.api.CodesFolder}
 *       (codes.npz + metrics.json), {@link dev.jlens.api.Prompts} (prompt files), {@link dev.jlens.api.ModelInfo}
 *       (a GGUF header, read in pure Java);</li>
 *   <li>the study: {@link dev.jlens.api.Experiment} (the whole run, or its stages on capture folders, and the report)
 *       and {@link dev.jlens.api.SteeringStudy} (coarse vs coarse+fine steering over strengths and seeds);</li>
 *   <li>support: {@link dev.jlens.api.Toys} (generated models and SAEs, the planted France toy),
 *       {@link dev.jlens.api.ProgressListener}, {@link dev.jlens.api.Failures} (bad input vs a failed run).</li>
 * </ul>
 *
 * <p>Ownership: every type that holds native memory or a native handle is {@link java.lang.AutoCloseable} and owns
 * it; close children (sessions, activations) before parents (models). The file and study facades are static methods
 * that open and close everything they use. Threads: a {@link dev.jlens.api.LensModel} may be shared; a
 * {@link dev.jlens.api.LensSession} is used by one thread at a time (a second thread gets an IllegalStateException,
 * never a crash); records are immutable and builders are single-thread. Shapes are row-major float32
 * {@code [rows x d_model]}; layers are 0-based ({@code l_out-12} = TransformerLens {@code blocks.12.hook_resid_post}).
 * Errors: bad input is an IllegalArgumentException or an IOException naming the file, field and value (see
 * {@link dev.jlens.api.Failures}); the exception types to catch are in the exported package {@code dev.jlens.errors}
 * ({@link dev.jlens.errors.InvalidFileException}, {@link dev.jlens.errors.InvalidModelFileException},
 * {@link dev.jlens.errors.NativeException}); nothing in the API calls {@code System.exit}.
 *
 * <p>JVM flags: {@code --enable-native-access=dev.jlens} (or ALL-UNNAMED on the class path) and
 * {@code --add-modules jdk.incubator.vector}. Native libraries: {@code -Djlens.native.dir} / {@code JLENS_NATIVE_DIR},
 * otherwise the copy packaged in the jar is extracted to a per-version cache folder on first use (a {@code native/lib}
 * above the working directory is not used unless named by one of those settings).
 *
 * <p>Dependencies: Jackson only. picocli (the command line) and JFreeChart (the study report's PNG figures) are
 * optional; without JFreeChart a study writes report.html and skips heatmap.png and scatter.png.
 */
package dev.jlens.api;
