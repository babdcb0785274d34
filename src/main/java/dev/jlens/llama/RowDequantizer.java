package dev.jlens.llama;

import dev.jlens.bindings.NativeSymbols;
import dev.jlens.formats.GgmlType;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Dequantises rows of any ggml tensor type to f32 with ggml's own {@code to_float} (from
 * {@code ggml_get_type_traits}), so every quant type a GGUF may hold (K-quants, IQ types...) reads exactly as
 * llama.cpp reads it. Stateless and thread-safe; the source rows are read, never written.
 */
public final class RowDequantizer {
    // struct ggml_type_traits { const char *type_name; int64_t blck_size; int64_t blck_size_interleave;
    //                           size_t type_size; bool is_quantized; ggml_to_float_t to_float; ... }
    private static final long TO_FLOAT_OFFSET = 40;

    private final GgmlType type;
    private final MethodHandle toFloat;

    private RowDequantizer(GgmlType type, MethodHandle toFloat) {
        this.type = type;
        this.toFloat = toFloat;
    }

    /** The dequantiser of {@code type}; fails for a type ggml cannot convert to float (e.g. I32). */
    public static RowDequantizer of(GgmlType type) {
        if (type == GgmlType.F32) return new RowDequantizer(type, null); // a copy; ggml has no to_float for F32
        NativeLibrary.load();
        Linker linker = Linker.nativeLinker();
        MemorySegment fn = NativeSymbols.lookup().find("ggml_get_type_traits")
                .orElseThrow(() -> new LlamaException("ggml_get_type_traits", 0, "symbol not found in the loaded ggml"));
        MethodHandle traitsOf = linker.downcallHandle(fn, FunctionDescriptor.of(ADDRESS, JAVA_INT));
        MemorySegment traits;
        try {
            traits = ((MemorySegment) traitsOf.invokeExact(type.id)).reinterpret(TO_FLOAT_OFFSET + 16);
        } catch (Throwable t) {
            throw new LlamaException("ggml_get_type_traits", 0, t.toString());
        }
        if (traits.equals(MemorySegment.NULL)) throw new IllegalArgumentException("ggml has no traits for " + type);
        long blck = traits.get(JAVA_LONG, 8), size = traits.get(JAVA_LONG, 24);
        if (blck != type.blockSize || size != type.typeSize) {
            throw new IllegalStateException("ggml's traits of " + type + " (block " + blck + ", size " + size + ") differ from ours ("
                    + type.blockSize + ", " + type.typeSize + "): the bindings do not match this ggml");
        }
        MemorySegment f = traits.get(ADDRESS, TO_FLOAT_OFFSET);
        // F32 has no to_float in ggml's traits (nothing to convert): dequantize copies it
        if (f.equals(MemorySegment.NULL) && type == GgmlType.F32) return new RowDequantizer(type, null);
        if (f.equals(MemorySegment.NULL)) throw new IllegalArgumentException("ggml cannot dequantise " + type + " to f32");
        MethodHandle h = linker.downcallHandle(f, FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, JAVA_LONG));
        return new RowDequantizer(type, h);
    }

    public GgmlType type() { return type; }

    /**
     * Dequantises {@code rows} rows of {@code perRow} elements, stored contiguously in {@code src} from byte 0,
     * into {@code out[0 .. rows*perRow)}.
     */
    public void dequantize(MemorySegment src, int rows, int perRow, float[] out) {
        long n = (long) rows * perRow;
        if (n > out.length) throw new IllegalArgumentException(n + " elements do not fit an array of " + out.length);
        long bytes = rows * type.rowBytes(perRow);
        if (src.byteSize() < bytes) throw new IllegalArgumentException("source of " + src.byteSize() + " bytes, need " + bytes);
        if (type == GgmlType.F32) {
            MemorySegment.copy(src, JAVA_FLOAT_UNALIGNED, 0, out, 0, (int) n);
            return;
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment in = a.allocate(bytes, 64);
            MemorySegment.copy(src, 0, in, 0, bytes);
            MemorySegment dst = a.allocate(JAVA_FLOAT, n);
            toFloat.invokeExact(in, dst, n);
            MemorySegment.copy(dst, JAVA_FLOAT, 0, out, 0, (int) n);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new LlamaException("to_float", 0, t.toString());
        }
    }
}
