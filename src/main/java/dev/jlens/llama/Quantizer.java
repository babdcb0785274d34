package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.NativeSymbols;
import dev.jlens.formats.GgmlType;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * ggml's own quantisation: {@link #quantize} (ggml_quantize_chunk) for writing Q8_0 / Q4_0 GGUF tensors bit-identical
 * to llama.cpp's, and {@link #quantizeModel} (llama_model_quantize, what the llama-quantize tool runs) for whole files
 * with llama.cpp's per-tensor recipe (e.g. Q4_K_M's Q6_K layers, the tied embedding's Q6_K, fallbacks for rows that
 * are not a multiple of a k-quant's 256-value block).
 */
public final class Quantizer {
    private Quantizer() {}

    /** File types llama_model_quantize writes here: the llama_ftype values of llama.h. */
    public enum FileType {
        F32(0), F16(1), Q4_0(2), Q8_0(7), Q4_K_M(15), BF16(32);

        /** The llama_ftype value. */
        public final int ftype;

        FileType(int ftype) { this.ftype = ftype; }

        /** {@code f32}, {@code f16}, {@code bf16}, {@code q8_0}, {@code q4_0}, {@code q4_k_m}, any case. */
        public static FileType parse(String s) {
            for (FileType t : values()) if (t.name().equalsIgnoreCase(s.strip())) return t;
            throw new IllegalArgumentException("unknown file type '" + s + "': expected f32, f16, bf16, q8_0, q4_0 or q4_k_m");
        }

        /** The lower-case name llama-quantize uses ({@code q4_k_m}). */
        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    // struct llama_model_quantize_params (llama.h at the pinned commit): int32 nthread, enum llama_ftype ftype,
    // enum ggml_type output_tensor_type, token_embedding_type, six bools (allow_requantize, quantize_output_tensor,
    // only_copy, pure, keep_split, dry_run), four pointers (imatrix, kv_overrides, tt_overrides, prune_layers), size_t
    // max_buf_size
    private static final StructLayout PARAMS = MemoryLayout.structLayout(
            JAVA_INT.withName("nthread"), JAVA_INT.withName("ftype"), JAVA_INT.withName("output_tensor_type"),
            JAVA_INT.withName("token_embedding_type"), JAVA_BOOLEAN.withName("allow_requantize"),
            JAVA_BOOLEAN.withName("quantize_output_tensor"), JAVA_BOOLEAN.withName("only_copy"), JAVA_BOOLEAN.withName("pure"),
            JAVA_BOOLEAN.withName("keep_split"), JAVA_BOOLEAN.withName("dry_run"), MemoryLayout.paddingLayout(2),
            ADDRESS.withName("imatrix"), ADDRESS.withName("kv_overrides"), ADDRESS.withName("tt_overrides"),
            ADDRESS.withName("prune_layers"), JAVA_LONG.withName("max_buf_size"));

    /**
     * Writes {@code out} from the GGUF {@code in} (F32 or F16 matrices) as llama-quantize would with file type
     * {@code type} and no importance matrix: the per-tensor recipe of llama.cpp, 1-D tensors kept in F32. Throws
     * LlamaException when llama.cpp refuses; {@code out} is written next to its final name and moved into place.
     */
    public static void quantizeModel(Path in, Path out, FileType type, int threads) {
        Objects.requireNonNull(type, "type");
        if (!Files.isRegularFile(in)) throw new IllegalArgumentException(in + " is not a file");
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        NativeLibrary.load();
        Linker linker = Linker.nativeLinker();
        MethodHandle defaults = linker.downcallHandle(symbol("llama_model_quantize_default_params"), FunctionDescriptor.of(PARAMS));
        MethodHandle quantize = linker.downcallHandle(symbol("llama_model_quantize"), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        Path tmp = out.resolveSibling(out.getFileName() + ".part");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = (MemorySegment) defaults.invokeExact((SegmentAllocator) a);
            p.set(JAVA_INT, PARAMS.byteOffset(MemoryLayout.PathElement.groupElement("nthread")), threads);
            p.set(JAVA_INT, PARAMS.byteOffset(MemoryLayout.PathElement.groupElement("ftype")), type.ftype);
            int rc = (int) quantize.invokeExact(a.allocateFrom(in.toAbsolutePath().toString()),
                    a.allocateFrom(tmp.toAbsolutePath().toString()), p);
            if (rc != 0) throw new LlamaException("llama_model_quantize", rc, "could not write " + in + " as " + type + " (see the log)");
            Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (LlamaException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaException("llama_model_quantize", 0, t.toString());
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (java.io.IOException ignored) {
                // a leftover .part file is harmless and replaced by the next write
            }
        }
    }

    private static MemorySegment symbol(String name) {
        return NativeSymbols.lookup().find(name)
                .orElseThrow(() -> new LlamaException(name, 0, "symbol not found in the loaded llama.cpp"));
    }

    /**
     * Quantises {@code rows} rows of {@code perRow} floats (row-major) into ggml blocks of {@code type}.
     * Only types that need no importance matrix are accepted (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, F16, BF16).
     */
    public static byte[] quantize(GgmlType type, float[] data, int rows, int perRow) {
        if (type != GgmlType.Q8_0 && type != GgmlType.Q4_0 && type != GgmlType.Q4_1 && type != GgmlType.Q5_0
                && type != GgmlType.Q5_1 && type != GgmlType.F16 && type != GgmlType.BF16) {
            throw new IllegalArgumentException("quantisation to " + type + " is not supported here");
        }
        if (rows < 1 || perRow < 1) throw new IllegalArgumentException("rows and perRow must be >= 1");
        if ((long) rows * perRow != data.length) throw new IllegalArgumentException(data.length + " floats is not " + rows + " x " + perRow);
        if (perRow % type.blockSize != 0) throw new IllegalArgumentException("row of " + perRow + " is not a multiple of " + type + "'s block of " + type.blockSize);
        NativeLibrary.load();
        long outBytes = (long) rows * type.rowBytes(perRow);
        if (outBytes > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("chunk too large: " + outBytes + " bytes");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment src = a.allocate(JAVA_FLOAT, data.length);
            MemorySegment.copy(data, 0, src, JAVA_FLOAT, 0, data.length);
            MemorySegment dst = a.allocate(outBytes, 64);
            LlamaH.ggml_quantize_init(type.id);
            long n = LlamaH.ggml_quantize_chunk(type.id, src, dst, 0, rows, perRow, MemorySegment.NULL);
            if (n != outBytes) throw new LlamaException("ggml_quantize_chunk", 0, "wrote " + n + " bytes, expected " + outBytes);
            return dst.toArray(JAVA_BYTE);
        }
    }
}
