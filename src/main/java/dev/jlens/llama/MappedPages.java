package dev.jlens.llama;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Drops the resident pages of a file's read-only shared mappings from this process (Linux {@code madvise
 * MADV_DONTNEED}); the data stays in the page cache and pages fault back in when read.
 *
 * <p>llama.cpp maps a model with {@code MAP_POPULATE}, which puts the whole file in the process's resident set,
 * although a capture at layer 12 reads only blocks 0..12 and the embedding rows of its tokens. Releasing the
 * mapping right after the load keeps the blocks above the captured layer out of memory accounting (about half
 * of a 2B model's weights). Only mappings that are read-only and shared ({@code r--s}) are touched: for those
 * MADV_DONTNEED never loses data. Elsewhere (no /proc/self/maps, no madvise) it does nothing.
 */
final class MappedPages {
    private static final System.Logger LOG = System.getLogger(MappedPages.class.getName());
    private static final int MADV_DONTNEED = 4;
    private static final Optional<MethodHandle> MADVISE = Linker.nativeLinker().defaultLookup().find("madvise")
            .map(a -> Linker.nativeLinker().downcallHandle(a,
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT)));

    private MappedPages() {}

    /** One mapping of a file: [start, end) in this process, its permissions. */
    record Mapping(long start, long end, String perms) {}

    /** Mappings of {@code file} listed in /proc/self/maps (empty where that file does not exist). */
    static List<Mapping> mappingsOf(Path file) throws IOException {
        Path maps = Path.of("/proc/self/maps");
        if (!Files.isReadable(maps)) return List.of();
        String want = file.toRealPath().toString();
        return Files.readAllLines(maps).stream()
                .map(l -> l.split("\\s+", 6))
                .filter(f -> f.length == 6 && f[5].equals(want))
                .map(f -> {
                    String[] range = f[0].split("-");
                    return new Mapping(Long.parseUnsignedLong(range[0], 16), Long.parseUnsignedLong(range[1], 16), f[1]);
                })
                .toList();
    }

    /** Releases every read-only shared mapping of {@code file}; returns the bytes advised (0 when unsupported). */
    static long release(Path file) {
        if (MADVISE.isEmpty()) return 0;
        long advised = 0;
        try {
            for (Mapping m : mappingsOf(file)) {
                if (!m.perms().equals("r--s")) continue;
                int rc = (int) MADVISE.get().invokeExact(MemorySegment.ofAddress(m.start()), m.end() - m.start(), MADV_DONTNEED);
                if (rc == 0) advised += m.end() - m.start();
            }
        } catch (Throwable t) { // best effort: memory accounting only, never the capture
            LOG.log(System.Logger.Level.DEBUG, "could not release the mapped pages of " + file, t);
        }
        return advised;
    }
}
