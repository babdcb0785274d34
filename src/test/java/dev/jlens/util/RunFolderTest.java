package dev.jlens.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class RunFolderTest {
    @TempDir Path tmp;

    static List<String> names(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aSecondLockFromAnotherThreadFailsNamingTheFolderAndTheLockFileGoesWithTheLastClose() throws Exception {
        Path dir = tmp.resolve("run");
        try (RunFolder f = RunFolder.lock(dir)) {
            assertTrue(Files.isRegularFile(dir.resolve(RunFolder.LOCK_FILE)));
            try (RunFolder again = RunFolder.lock(dir)) { // re-entrant in the owning thread
                assertEquals(dir.toAbsolutePath(), again.dir());
            }
            assertTrue(Files.isRegularFile(dir.resolve(RunFolder.LOCK_FILE)), "still held by the outer lock");
            AtomicReference<Throwable> other = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try (RunFolder x = RunFolder.lock(dir)) {
                    fail("locked twice");
                } catch (Throwable e) {
                    other.set(e);
                }
            });
            t.start();
            t.join();
            RunFolder.BusyException busy = assertInstanceOf(RunFolder.BusyException.class, other.get());
            assertTrue(busy.getMessage().contains(dir.toString()) && busy.getMessage().contains("another jlens run"), busy.getMessage());
            assertInstanceOf(IllegalArgumentException.class, busy, "bad input: exit 2 on the command line");
        }
        assertFalse(Files.exists(dir), "a folder the lock created and nothing was written to is removed");
        try (RunFolder f = RunFolder.lock(dir)) {
            Files.writeString(dir.resolve("run.log"), "x");
        }
        assertEquals(List.of(RunFolder.LOCK_FILE, "run.log"), names(dir), "a folder with content stays, with its lock file");
    }

    @Test
    void lockingRemovesStagingFoldersAndTempFilesAKilledRunLeftAndNothingElse() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("run"));
        Files.createDirectories(dir.resolve(".staging-1234/sub"));
        Files.writeString(dir.resolve(".staging-1234/results.json"), "{}");
        Files.writeString(dir.resolve(".staging-1234/sub/x"), "x");
        Files.writeString(dir.resolve(".results.json.5678.tmp"), "partial");
        Files.writeString(dir.resolve("results.json"), "{\"old\":1}");
        Files.writeString(dir.resolve("run.log"), "log");
        Files.writeString(dir.resolve("notes.tmp"), "a user's file, not ours (no leading dot)");
        try (RunFolder f = RunFolder.lock(dir)) {
            assertEquals(List.of(RunFolder.LOCK_FILE, "notes.tmp", "results.json", "run.log"), names(dir));
        }
        assertEquals(List.of(RunFolder.LOCK_FILE, "notes.tmp", "results.json", "run.log"), names(dir));
    }

    @Test
    void commitMovesTheStagedSetInWithTheMarkerLastAndKeepsOtherFiles() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("run"));
        Files.writeString(dir.resolve("results.json"), "old");
        Files.writeString(dir.resolve("pairs.csv"), "old");
        Files.writeString(dir.resolve("run.log"), "log");
        try (RunFolder f = RunFolder.lock(dir)) {
            Path s = f.stage();
            assertEquals(dir.toAbsolutePath(), s.getParent());
            Files.writeString(s.resolve("results.json"), "new");
            Files.writeString(s.resolve("pairs.csv"), "new");
            Files.writeString(s.resolve("report.html"), "new");
            f.commit(s, "results.json");
            assertFalse(Files.exists(s));
            Path dropped = f.stage();
            Files.writeString(dropped.resolve("results.json"), "never");
            RunFolder.discard(dropped);
            assertFalse(Files.exists(dropped));
            assertThrows(IllegalArgumentException.class, () -> f.commit(tmp, "results.json"), "only a staging folder of this run folder");
        }
        assertEquals(List.of(RunFolder.LOCK_FILE, "pairs.csv", "report.html", "results.json", "run.log"), names(dir));
        for (String n : List.of("pairs.csv", "report.html", "results.json")) assertEquals("new", Files.readString(dir.resolve(n)), n);
        assertEquals("log", Files.readString(dir.resolve("run.log")));
    }

    @Test
    void aStaleLockFileLeftByAKilledProcessDoesNotBlock() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("run"));
        Files.writeString(dir.resolve(RunFolder.LOCK_FILE), "pid 1 (killed)"); // the OS released its lock with the process
        try (RunFolder f = RunFolder.lock(dir)) {
            assertTrue(Files.exists(dir.resolve(RunFolder.LOCK_FILE)));
        }
        assertEquals("pid " + ProcessHandle.current().pid() + "\n", Files.readString(dir.resolve(RunFolder.LOCK_FILE)));
    }

    @Test
    void anotherProcessHoldingTheLockMakesLockingFailAndItsDeathFreesTheFolder() throws Exception {
        Path dir = tmp.resolve("run");
        Process holder = dev.jlens.isolated.JavaProcess.builder(LockHolderMain.class.getName(), List.of(dir.toString()))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            assertEquals("LOCKED", new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream())).readLine());
            var e = assertThrows(RunFolder.BusyException.class, () -> RunFolder.lock(dir));
            assertEquals(dir, e.folder());
            assertTrue(e.getMessage().startsWith(dir + ": another jlens run"), e.getMessage());
        } finally {
            holder.destroyForcibly(); // kill -9: the operating system releases the lock
            holder.waitFor();
        }
        try (RunFolder f = RunFolder.lock(dir)) {
            assertEquals("pid " + ProcessHandle.current().pid() + "\n", Files.readString(dir.resolve(RunFolder.LOCK_FILE)));
        }
    }
}
