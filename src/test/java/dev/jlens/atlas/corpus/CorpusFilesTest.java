package dev.jlens.atlas.corpus;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import static dev.jlens.atlas.corpus.CorpusFixtures.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CorpusFilesTest {
    @TempDir Path dir;

    private List<String> relative(List<Path> files, Path root) {
        return files.stream().map(f -> root.relativize(f).toString().replace('\\', '/')).toList();
    }

    private void tree() throws IOException {
        write(dir.resolve("data/b.txt"), "b\n");
        write(dir.resolve("data/a.txt"), "a\n");
        write(dir.resolve("data/a-b.txt"), "ab\n");
        write(dir.resolve("data/sub/c.jsonl.gz"), "{}\n");
        write(dir.resolve("data/sub/deeper/d.jsonl.gz"), "{}\n");
        write(dir.resolve("data/e.jsonl.gz"), "{}\n");
        write(dir.resolve("data/.hidden.txt"), "h\n");
        write(dir.resolve("data/.git/config.txt"), "h\n");
        write(dir.resolve("data/sub/.cache/x.jsonl.gz"), "{}\n");
    }

    @Test
    void folderListsEveryNonHiddenFileRecursivelySortedByRelativePath() throws IOException {
        tree();
        List<Path> files = CorpusFiles.resolve(dir.resolve("data").toString(), dir);
        // string order of '/'-separated relative paths: '-' (0x2d) < '.' (0x2e) < '/' (0x2f) < letters
        assertEquals(List.of("a-b.txt", "a.txt", "b.txt", "e.jsonl.gz", "sub/c.jsonl.gz", "sub/deeper/d.jsonl.gz"),
                relative(files, dir.resolve("data")));
        assertTrue(files.stream().allMatch(Path::isAbsolute));
    }

    @Test
    void globsResolveRelativeToTheWorkingDirectoryAndSort() throws IOException {
        tree();
        assertEquals(List.of("data/a-b.txt", "data/a.txt", "data/b.txt"), relative(CorpusFiles.resolve("data/*.txt", dir), dir));
        // ** also matches zero folders, as in the shell's globstar
        assertEquals(List.of("data/e.jsonl.gz", "data/sub/c.jsonl.gz", "data/sub/deeper/d.jsonl.gz"),
                relative(CorpusFiles.resolve("data/**/*.jsonl.gz", dir), dir));
        assertEquals(List.of("data/sub/c.jsonl.gz"), relative(CorpusFiles.resolve("data/*/*.jsonl.gz", dir), dir));
        assertEquals(List.of("data/a.txt", "data/b.txt"), relative(CorpusFiles.resolve("data/[ab].txt", dir), dir));
        assertEquals(List.of("data/a-b.txt"), relative(CorpusFiles.resolve("data/a?*.txt", dir), dir));
        assertEquals(List.of("data/b.txt"), relative(CorpusFiles.resolve("data/[!a]*.txt", dir), dir));
        assertEquals(List.of("data/a.txt", "data/b.txt", "data/e.jsonl.gz"),
                relative(CorpusFiles.resolve("data/{a,b}.txt:data/e.*", dir), dir));
        // an absolute glob ignores the working directory
        assertEquals(List.of("data/a-b.txt", "data/a.txt", "data/b.txt"),
                relative(CorpusFiles.resolve(dir.resolve("data") + "/*.txt", Path.of("/")), dir));
    }

    @Test
    void aGlobOrFolderMatchingNothingIsAnErrorNamingIt() throws IOException {
        tree();
        CorpusException e = assertThrows(CorpusException.class, () -> CorpusFiles.resolve("data/*.csv", dir));
        assertTrue(e.getMessage().contains("data/*.csv") && e.getMessage().contains("matches no"), e.getMessage());
        e = assertThrows(CorpusException.class, () -> CorpusFiles.resolve("nowhere/**/*.txt", dir));
        assertTrue(e.getMessage().contains("nowhere/**/*.txt"), e.getMessage());
        // hidden files are never matched by a wildcard below the base
        assertThrows(CorpusException.class, () -> CorpusFiles.resolve("data/.*", dir));
        Files.createDirectories(dir.resolve("empty/.only-hidden"));
        write(dir.resolve("empty/.dot"), "x\n");
        e = assertThrows(CorpusException.class, () -> CorpusFiles.resolve("empty", dir));
        assertTrue(e.getMessage().contains(dir.resolve("empty").toString()), e.getMessage());
        NoSuchFileException n = assertThrows(NoSuchFileException.class, () -> CorpusFiles.resolve("missing.txt", dir));
        assertTrue(n.getMessage().contains("missing.txt"));
    }

    @Test
    void aHiddenFileNamedExplicitlyIsRead() throws IOException {
        tree();
        assertEquals(List.of("data/.hidden.txt"), relative(CorpusFiles.resolve("data/.hidden.txt", dir), dir));
    }

    @Test
    void severalEntriesKeepTheirOrderAndAFileListedTwiceIsRejected() throws IOException {
        tree();
        assertEquals(List.of("data/b.txt", "data/a-b.txt", "data/a.txt"),
                relative(CorpusFiles.resolve("data/b.txt:data/a*.txt", dir), dir));
        CorpusException e = assertThrows(CorpusException.class, () -> CorpusFiles.resolve("data/*.txt:data/a.txt", dir));
        assertTrue(e.getMessage().contains("a.txt") && e.getMessage().contains("twice"), e.getMessage());
    }

    @Test
    void linksToFilesAreReadLinksToFoldersAreNotFollowedButALinkedRootIs() throws IOException {
        write(dir.resolve("real/x.txt"), "x\n");
        write(dir.resolve("other/y.txt"), "y\n");
        Files.createSymbolicLink(dir.resolve("real/link-to-y.txt"), dir.resolve("other/y.txt"));
        Files.createSymbolicLink(dir.resolve("real/link-to-other"), dir.resolve("other"));
        Files.createSymbolicLink(dir.resolve("root-link"), dir.resolve("real"));
        assertEquals(List.of("link-to-y.txt", "x.txt"), relative(CorpusFiles.resolve("real", dir), dir.resolve("real")));
        List<Path> viaLink = CorpusFiles.resolve("root-link", dir);
        assertEquals(List.of("link-to-y.txt", "x.txt"), relative(viaLink, dir.resolve("root-link")));
    }

    @Test
    void badGlobSyntaxFailsBeforeTheFileSystemIsTouched() {
        for (String bad : List.of("data/[ab.txt", "data/{a,b.txt", "data/*}.txt", "a:", ":a", "  ")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CorpusFiles.checkSyntax(bad), bad);
            assertTrue(e.getMessage().contains("--corpus"), e.getMessage());
        }
    }
}
