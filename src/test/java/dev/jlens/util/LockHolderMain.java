package dev.jlens.util;

import java.nio.file.Path;

/** Child JVM of {@link RunFolderTest}: locks the folder given as the argument, prints LOCKED and waits to be killed. */
public final class LockHolderMain {
    private LockHolderMain() {}

    public static void main(String[] a) throws Exception {
        RunFolder f = RunFolder.lock(Path.of(a[0]));
        System.out.println("LOCKED");
        System.out.flush();
        Thread.sleep(600_000);
        f.close();
    }
}
