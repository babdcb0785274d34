/**
 * The exception types of the jlens API, for callers that catch failures by type. The package depends on nothing but
 * {@code java.base}; the internal layers throw subclasses of these (the file readers an {@link
 * dev.jlens.errors.InvalidFileException}, the model check an {@link dev.jlens.errors.InvalidModelFileException}, the
 * native layer a {@link dev.jlens.errors.NativeException}), so a caller never needs a type the module does not export.
 *
 * <ul>
 *   <li>{@link dev.jlens.errors.InvalidFileException} (checked, an {@link java.io.IOException}): a file is not what it
 *       claims to be (a malformed GGUF, NPY, NPZ, safetensors file, SAE config, prompt file, capture folder or
 *       corpus); bad input.</li>
 *   <li>{@link dev.jlens.errors.InvalidModelFileException} (an {@link java.lang.IllegalArgumentException}): a model
 *       file failed validation before llama.cpp saw it; bad input.</li>
 *   <li>{@link dev.jlens.errors.NativeException} (unchecked): a llama.cpp / ggml call failed or the native libraries
 *       cannot be loaded; a failed run.</li>
 * </ul>
 *
 * <p>Each names the file, the field (header key, member, tensor name, byte offset...) and the offending value in its
 * message, and gives the file and field as accessors. {@code dev.jlens.api.Failures} tells bad input from a failed
 * run.
 */
package dev.jlens.errors;
