package dev.jlens.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The verified-hash memo: a file is hashed once per (absolute path, size, modification time). The memo is proved
 * used by changing the content behind its back (same size, same mtime: the old digest comes back), and proved keyed by
 * size and mtime by changing either (a fresh digest).
 */
class FileHashesTest {
    @TempDir Path dir;

    @Test
    void theMemoAnswersUntilSizeOrMtimeChange() throws Exception {
        Path cache = dir.resolve("cache");
        Path f = dir.resolve("model.bin");
        Files.writeString(f, "aaaa");
        FileTime t = FileTime.fromMillis(1_700_000_000_000L);
        Files.setLastModifiedTime(f, t);
        String first = FileHashes.sha256(f, cache);
        assertEquals(FileHashes.sha256(f), first);
        try (Stream<Path> s = Files.list(cache.resolve("hashes"))) {
            assertEquals(1, s.count(), "one memo file");
        }

        // same size, same mtime, other bytes: the memo answers (no re-hash)
        Files.writeString(f, "bbbb");
        Files.setLastModifiedTime(f, t);
        assertEquals(first, FileHashes.sha256(f, cache), "the memo is used");
        assertNotEquals(first, FileHashes.sha256(f));

        // a changed mtime forces a re-hash
        Files.setLastModifiedTime(f, FileTime.fromMillis(t.toMillis() + 1000));
        String second = FileHashes.sha256(f, cache);
        assertEquals(FileHashes.sha256(f), second);
        assertNotEquals(first, second);

        // a changed size (mtime put back) forces a re-hash
        Files.writeString(f, "ccccc");
        Files.setLastModifiedTime(f, t);
        assertEquals(FileHashes.sha256(f), FileHashes.sha256(f, cache));

        // a relative path and its absolute form share the memo entry; another path does not
        Path copy = Files.copy(f, dir.resolve("copy.bin"));
        Files.setLastModifiedTime(copy, t);
        assertEquals(FileHashes.sha256(f), FileHashes.sha256(copy, cache));
    }

    @Test
    void aDamagedMemoIsIgnoredAndRewritten() throws Exception {
        Path cache = dir.resolve("cache");
        Path f = Files.writeString(dir.resolve("x.bin"), "hello");
        String h = FileHashes.sha256(f, cache);
        Path memo;
        try (Stream<Path> s = Files.list(cache.resolve("hashes"))) {
            memo = s.findFirst().orElseThrow();
        }
        Files.writeString(memo, "not a digest");
        assertEquals(h, FileHashes.sha256(f, cache));
        assertEquals(h, Files.readString(memo).strip(), "rewritten");
        try (Stream<Path> s = Files.list(cache.resolve("hashes"))) {
            assertTrue(s.allMatch(p -> p.getFileName().toString().matches("[0-9a-f]{32}")), "no temporary file left");
        }
    }

    @Test
    void withoutACacheFolderTheFileIsHashed() throws Exception {
        Path f = Files.writeString(dir.resolve("y.bin"), "abc");
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", FileHashes.sha256(f, null));
    }
}
