package dev.jlens.formats;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

/** An opened npz archive: its members as memory-mapped tensors, keyed by name without {@code .npy}. */
public final class NpzFile implements AutoCloseable {
    private final Path file;
    private final Map<String, Tensor> members;
    private final Arena ownedArena;

    NpzFile(Path file, Map<String, Tensor> members, Arena ownedArena) {
        this.file = file;
        this.members = Collections.unmodifiableMap(members);
        this.ownedArena = ownedArena;
    }

    public Path file() {
        return file;
    }

    public Map<String, Tensor> members() {
        return members;
    }

    /** The member {@code name} (without {@code .npy}); the error lists the members that do exist. */
    public Tensor get(String name) throws FormatException {
        Tensor t = members.get(name);
        if (t == null) throw new FormatException(file, name, "no such member; the archive has " + members.keySet());
        return t;
    }

    /** Unmaps the members when this file owns its arena; with a caller's arena the caller decides. */
    @Override
    public void close() {
        if (ownedArena != null && ownedArena.scope().isAlive()) ownedArena.close();
    }
}
