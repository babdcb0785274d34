package dev.jlens.util;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * A run folder that one process writes at a time and whose output set is complete or absent.
 *
 * <p>{@link #lock} takes an exclusive {@link FileChannel#tryLock} on {@value #LOCK_FILE} inside the folder (created
 * if missing); a second process fails fast with {@link BusyException}. Holding the lock it removes what a killed run
 * left: {@code .staging-*} folders and {@code .*.tmp} files. The lock is re-entrant within one thread (a study that
 * locks its folder may call a report writer that locks it again) and is released by {@link #close} or, if the process
 * dies, by the operating system. The lock file stays in the folder, except that a folder this lock created and nothing
 * else was written to is removed with it, so a run that failed before writing leaves nothing.
 *
 * <p>Outputs are written into a {@link #stage() staging folder} inside the run folder and moved in by
 * {@link #commit} (files, and folders of files, which replace a folder of the same name): the marker file (results.json
 * for a study) is removed first and moved in last, so a folder holding
 * the marker holds the complete set of one run, while other files in the folder (run.log, a capture cache, a
 * steering sub-folder) stay where they are.
 */
public final class RunFolder implements AutoCloseable {
    /** The lock file's name inside the run folder. */
    public static final String LOCK_FILE = ".jlens.lock";
    private static final String STAGING_PREFIX = ".staging-";

    /** Another process (or another thread of this one) holds the folder's lock: bad input, exit 2 on the CLI. */
    public static final class BusyException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final transient Path folder;

        BusyException(Path folder) {
            super(folder + ": another jlens run is writing this folder (it holds " + folder.resolve(LOCK_FILE)
                    + "); wait for it to finish or choose another output folder");
            this.folder = folder;
        }

        BusyException(Path file, Path lockFile) {
            super(file + ": another jlens run is writing this file (it holds " + lockFile + "); wait for it to finish or choose another output file");
            this.folder = file;
        }

        /** The folder that is in use. */
        public Path folder() { return folder; }
    }

    // folders locked by this JVM: the owning thread and how many times it locked them
    private static final Map<Path, Held> HELD = new HashMap<>();

    private static final class Held {
        final Thread owner;
        final FileChannel channel;
        final FileLock lock;
        boolean created;
        int count = 1;
        // staging folders made by stage() and not yet committed or discarded: what abandonHeld() removes
        final List<Path> staging = new ArrayList<>();

        Held(Thread owner, FileChannel channel, FileLock lock, boolean created) {
            this.owner = owner;
            this.channel = channel;
            this.lock = lock;
            this.created = created;
        }
    }

    private final Path dir;
    private boolean closed;

    private RunFolder(Path dir) { this.dir = dir; }

    /**
     * Locks {@code dir} (created if missing) for this run and removes stale staging folders and temporary files.
     *
     * @throws BusyException when another process or thread holds the lock
     */
    public static RunFolder lock(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath().normalize();
        synchronized (HELD) {
            Held h = HELD.get(abs);
            if (h != null) {
                if (h.owner != Thread.currentThread()) throw new BusyException(dir);
                h.count++;
                return new RunFolder(abs);
            }
            boolean created = !Files.exists(abs);
            Files.createDirectories(abs);
            Path lockFile = abs.resolve(LOCK_FILE);
            FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = tryLock(ch);
            if (lock != null) { // who holds it, for a person looking at the folder (written through the locked channel only)
                try {
                    ch.truncate(0);
                    ch.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)), 0);
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
            }
            if (lock == null) {
                ch.close();
                throw new BusyException(dir);
            }
            HELD.put(abs, new Held(Thread.currentThread(), ch, lock, created));
            try {
                cleanStale(abs);
            } catch (IOException | RuntimeException e) {
                release(abs);
                throw e;
            }
            return new RunFolder(abs);
        }
    }

    /**
     * The lock of one output file that is written atomically next to files that are not the run's (`jlens slice --out`):
     * an exclusive {@link FileChannel#tryLock} on {@code .<name>.jlens.lock} beside it (a second process or thread gets
     * {@link BusyException} naming the file); holding it, the temporaries a killed run left ({@code .<name>.*.tmp}, the
     * atomic writer's names) are removed. {@link #close} deletes the lock file while still holding it, then releases: a
     * process that opened the old lock file just before could then lock it as a third locks a new one, a window of one
     * system call in which two runs would each still write the file whole (atomic rename), the last one winning.
     */
    public static final class OutputFile implements AutoCloseable {
        private final Path lockFile;
        private final FileChannel channel;
        private final FileLock lock;
        private boolean closed;

        private OutputFile(Path lockFile, FileChannel channel, FileLock lock) {
            this.lockFile = lockFile;
            this.channel = channel;
            this.lock = lock;
        }

        /** Locks {@code file} (its folder is created if missing) and removes its stale temporaries. */
        public static OutputFile lock(Path file) throws IOException {
            Path abs = file.toAbsolutePath().normalize();
            Path parent = abs.getParent();
            Files.createDirectories(parent);
            String name = abs.getFileName().toString();
            Path lockFile = parent.resolve("." + name + ".jlens.lock");
            FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = tryLock(ch);
            if (lock == null) {
                ch.close();
                throw new BusyException(file, lockFile);
            }
            OutputFile f = new OutputFile(lockFile, ch, lock);
            try {
                List<Path> stale = new ArrayList<>();
                try (DirectoryStream<Path> s = Files.newDirectoryStream(parent)) {
                    for (Path p : s) {
                        String n = p.getFileName().toString();
                        if (n.startsWith("." + name + ".") && n.endsWith(".tmp") && Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) stale.add(p);
                    }
                }
                for (Path p : stale) Files.deleteIfExists(p);
            } catch (IOException | RuntimeException e) {
                f.close();
                throw e;
            }
            return f;
        }

        /** Deletes the lock file and releases the lock. */
        @Override
        public void close() throws IOException {
            if (closed) return;
            closed = true;
            try {
                Files.deleteIfExists(lockFile);
            } finally {
                try {
                    lock.release();
                } finally {
                    channel.close();
                }
            }
        }
    }

    /** Removes what a killed run left in {@code dir}: {@code .staging-*} folders and {@code .*.tmp} files. */
    static void cleanStale(Path dir) throws IOException {
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (n.startsWith(STAGING_PREFIX) || (n.startsWith(".") && n.endsWith(".tmp"))) stale.add(p);
            }
        }
        for (Path p : stale) deleteTree(p);
    }

    /** The locked folder (absolute). */
    public Path dir() { return dir; }

    /** A new, empty staging folder inside the run folder; {@link #commit} moves its files in, {@link #discard} drops it. */
    public Path stage() throws IOException {
        Path p = Files.createDirectory(dir.resolve(STAGING_PREFIX + UUID.randomUUID()));
        synchronized (HELD) {
            Held h = HELD.get(dir);
            if (h != null) h.staging.add(p);
        }
        return p;
    }

    /**
     * For a process about to halt (an isolated worker whose host died): removes the staging folders of every folder this
     * JVM holds, and a folder its lock created that holds nothing but the lock file. The locks are not released (the
     * operating system does that when the process ends); a commit in progress on another thread may be cut short, and its
     * marker file is then absent. Never throws.
     */
    public static void abandonHeld() {
        List<Map.Entry<Path, Held>> held;
        synchronized (HELD) {
            held = new ArrayList<>(HELD.entrySet());
        }
        for (Map.Entry<Path, Held> e : held) {
            List<Path> staging;
            synchronized (HELD) {
                staging = new ArrayList<>(e.getValue().staging);
            }
            for (Path p : staging) discard(p);
            if (e.getValue().created && onlyLockFile(e.getKey())) {
                try {
                    Files.deleteIfExists(e.getKey().resolve(LOCK_FILE));
                    Files.deleteIfExists(e.getKey());
                } catch (IOException | RuntimeException ignored) {
                    // the next run into this folder finds a stale lock file, which is harmless
                }
            }
        }
    }

    /**
     * After a run in another process ended without cleaning up (an isolated worker that crashed): locks {@code dir}, which
     * removes the run's staging folders and temporary files, and when {@code createdByThatRun} and nothing but the lock
     * file is left, removes the folder. No-op when {@code dir} does not exist.
     *
     * @throws BusyException when another run holds the folder
     */
    public static void recover(Path dir, boolean createdByThatRun) throws IOException {
        if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (RunFolder f = lock(dir)) {
            synchronized (HELD) {
                Held h = HELD.get(f.dir);
                if (h != null && h.count == 1) h.created |= createdByThatRun;
            }
        }
    }

    private static boolean onlyLockFile(Path dir) {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) if (!p.getFileName().toString().equals(LOCK_FILE)) return false;
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Moves every file of {@code staging} into the run folder, replacing files of the same name, and removes the staging
     * folder. {@code marker} (a file name, or null) is deleted from the run folder before anything moves and moved in
     * last, so the marker's presence means the set is complete.
     */
    public void commit(Path staging, String marker) throws IOException {
        if (!Objects.equals(staging.toAbsolutePath().normalize().getParent(), dir)) {
            throw new IllegalArgumentException(staging + " is not a staging folder of " + dir);
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(staging)) {
            for (Path p : s) files.add(p);
        }
        files.sort(null);
        Path markerFile = null;
        if (marker != null) {
            Files.deleteIfExists(dir.resolve(marker));
            fsync(dir);
        }
        for (Path p : files) {
            if (marker != null && p.getFileName().toString().equals(marker)) {
                markerFile = p;
                continue;
            }
            Path to = dir.resolve(p.getFileName().toString());
            if (Files.isDirectory(to, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                // a folder of outputs (the atlas browser's atlas-data/): a rename cannot replace a non-empty folder, so the
                // old one moves aside under a staging name (a kill here leaves it for the next run's cleanup) and goes
                Path old = dir.resolve(STAGING_PREFIX + "old-" + UUID.randomUUID());
                move(to, old);
                move(p, to);
                deleteTree(old);
            } else {
                move(p, to);
            }
        }
        fsync(dir);
        if (markerFile != null) {
            move(markerFile, dir.resolve(marker));
            fsync(dir);
        }
        deleteTree(staging);
        forget(staging);
    }

    private static void forget(Path staging) {
        Path abs = staging.toAbsolutePath().normalize();
        synchronized (HELD) {
            Held h = HELD.get(abs.getParent());
            if (h != null) h.staging.remove(abs);
        }
    }

    /** Drops a staging folder (its run failed): nothing of it reaches the run folder. */
    public static void discard(Path staging) {
        try {
            deleteTree(staging);
            forget(staging);
        } catch (IOException | RuntimeException e) {
            // the next run into this folder removes it
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void fsync(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // some file systems do not allow opening a directory; the renames are still atomic
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            List<Path> children = new ArrayList<>();
            try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
                for (Path c : s) children.add(c);
            }
            for (Path c : children) deleteTree(c);
        }
        Files.deleteIfExists(p);
    }

    /** Releases the lock (the last of re-entrant locks releases the file lock). */
    @Override
    public void close() throws IOException {
        if (closed) return;
        closed = true;
        synchronized (HELD) {
            Held h = HELD.get(dir);
            if (h == null) return;
            if (--h.count > 0) return;
            release(dir);
        }
    }

    private static void release(Path abs) throws IOException {
        Held h = HELD.remove(abs);
        if (h == null) return;
        // the lock file stays (deleting it would let a process that opened it before the delete lock a file no longer at
        // the path while a third locks a new one); it is removed only with a folder this lock created that holds nothing else
        boolean remove = false;
        if (h.created) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(abs)) {
                remove = true;
                for (Path p : s) remove &= p.getFileName().toString().equals(LOCK_FILE);
            } catch (IOException e) {
                remove = false;
            }
        }
        try {
            // never open the lock file again while locked: closing any descriptor of it drops this process's POSIX lock
            if (remove) Files.deleteIfExists(abs.resolve(LOCK_FILE));
        } finally {
            try {
                h.lock.release();
            } finally {
                h.channel.close();
            }
        }
        if (remove) {
            try {
                Files.deleteIfExists(abs);
            } catch (IOException e) {
                // someone wrote into it meanwhile: leave it
            }
        }
    }

    /**
     * {@code ch.tryLock()}: null when another process (or this JVM, through another channel) holds the lock; any other
     * failure closes {@code ch} and is rethrown.
     */
    private static FileLock tryLock(FileChannel ch) throws IOException {
        try {
            return ch.tryLock();
        } catch (OverlappingFileLockException e) {
            return null;
        } catch (IOException | RuntimeException e) {
            ch.close();
            throw e;
        }
    }
}
