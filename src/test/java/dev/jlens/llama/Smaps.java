package dev.jlens.llama;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident bytes of a file's mappings in this process, from /proc/self/smaps (Linux); other threads' memory does not count. */
public final class Smaps {
    private Smaps() {}

    /** True where /proc/self/smaps can be read. */
    public static boolean available() { return Files.isReadable(Path.of("/proc/self/smaps")); }

    /** Sum of the Rss lines of every mapping of {@code file}. */
    public static long mappedRss(Path file) throws IOException {
        String want = file.toRealPath().toString();
        long kib = 0;
        boolean in = false;
        for (String l : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (l.matches("^[0-9a-f]+-[0-9a-f]+ .*")) in = l.endsWith(" " + want);
            else if (in && l.startsWith("Rss:")) kib += Long.parseLong(l.substring(4).replace("kB", "").trim());
        }
        return kib << 10;
    }
}
