package dev.jlens.formats;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named, typed, shaped view of little-endian bytes (usually a slice of a memory-mapped file).
 * The data segment is made read-only here so no reader can scribble on a mapped file.
 *
 * <p>{@code shape} and {@code data} always describe the bytes in C (row-major) order. {@code fortranOrder} says the
 * file stored the array in Fortran order ({@code np.save} of a transposed view such as {@code W.T}): this tensor is
 * then the transpose (axes reversed) of the array numpy shows, e.g. a Fortran {@code [d_in, d_sae]} arrives as the
 * C-order {@code [d_sae, d_in]} matrix, read in place.
 */
public record Tensor(String name, DType dtype, long[] shape, MemorySegment data, boolean fortranOrder) {
    /** A tensor stored in C order. */
    public Tensor(String name, DType dtype, long[] shape, MemorySegment data) {
        this(name, dtype, shape, data, false);
    }

    public Tensor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(data, "data");
        shape = shape.clone();
        long n = elementCount(name, shape);
        long expected;
        try {
            expected = Math.multiplyExact(n, dtype.size());
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " overflows a byte count");
        }
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " of " + dtype
                    + " needs " + expected + " bytes but data has " + data.byteSize());
        }
        data = data.asReadOnly();
    }

    /** Product of {@code shape}; throws IllegalArgumentException for negative dims or overflow. */
    static long elementCount(String name, long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException(name + ": negative dimension in shape " + Arrays.toString(shape));
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " overflows a long");
            }
        }
        return n;
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        return shape[i];
    }

    public long elementCount() {
        return data.byteSize() / dtype.size();
    }

    /** Element {@code i} in C (row-major) order, widened to float. */
    public float get(long i) {
        return dtype.get(data, i);
    }

    /** Copies all elements to a float array; only for small tensors (throws above 2^31-1 elements). */
    public float[] toFloatArray() {
        long n = elementCount();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException(name + ": " + n + " elements do not fit a Java array");
        float[] out = new float[(int) n];
        for (int i = 0; i < out.length; i++) out[i] = dtype.get(data, i);
        return out;
    }

    @Override
    public String toString() {
        return "Tensor[" + name + ", " + dtype + ", " + Arrays.toString(shape) + (fortranOrder ? ", stored in Fortran order" : "") + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && fortranOrder == t.fortranOrder && data.byteSize() == t.data.byteSize() && data.mismatch(t.data) == -1;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape), data.byteSize());
    }
}
