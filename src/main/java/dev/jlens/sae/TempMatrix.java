package dev.jlens.sae;

import dev.jlens.kernels.WeightFormat;
import dev.jlens.kernels.Weights;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A scratch matrix in a memory-mapped temp file next to the output, so multi-gigabyte matrices are
 * built off-heap and page out under memory pressure. Deleted on close.
 */
final class TempMatrix implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final Path file;
    final MemorySegment data;

    TempMatrix(Path nearDir, long bytes) throws IOException {
        Files.createDirectories(nearDir);
        file = Files.createTempFile(nearDir, ".jlens-", ".tmp");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            data = ch.map(FileChannel.MapMode.READ_WRITE, 0, Math.max(bytes, 1), arena).asSlice(0, bytes);
        } catch (IOException | RuntimeException e) {
            arena.close();
            Files.deleteIfExists(file);
            throw e;
        }
    }

    /** Copies {@code src} into a temp matrix of format {@code to} (rounding to bf16 to nearest even). */
    static TempMatrix convert(Weights src, WeightFormat to, Path nearDir) throws IOException {
        long n = (long) src.rows() * src.cols();
        TempMatrix m = new TempMatrix(nearDir, n * to.bytes);
        for (long i = 0; i < n; i++) {
            float v = src.get(i / src.cols(), i % src.cols());
            if (to == WeightFormat.F32) m.data.setAtIndex(Sae.F32, i, v);
            else m.data.setAtIndex(Sae.I16, i, WeightFormat.toBf16(v));
        }
        return m;
    }

    /** The transpose of {@code src} ([cols x rows]) in a temp matrix of format {@code to}. */
    static TempMatrix transpose(Weights src, WeightFormat to, Path nearDir) throws IOException {
        int rows = src.rows(), cols = src.cols();
        TempMatrix m = new TempMatrix(nearDir, (long) rows * cols * to.bytes);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                float v = src.get(r, c);
                long i = (long) c * rows + r;
                if (to == WeightFormat.F32) m.data.setAtIndex(Sae.F32, i, v);
                else m.data.setAtIndex(Sae.I16, i, WeightFormat.toBf16(v));
            }
        }
        return m;
    }

    @Override
    public void close() throws IOException {
        arena.close();
        Files.deleteIfExists(file);
    }
}
