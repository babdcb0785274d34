package dev.jlens.formats;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

/** An opened safetensors file: memory-mapped tensors (in data order) and the string metadata. */
public final class SafetensorsFile implements AutoCloseable {
    private final Path file;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;
    private final Arena ownedArena;

    SafetensorsFile(Path file, Map<String, Tensor> tensors, Map<String, String> metadata, Arena ownedArena) {
        this.file = file;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.metadata = Collections.unmodifiableMap(metadata);
        this.ownedArena = ownedArena;
    }

    public Path file() {
        return file;
    }

    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** The {@code __metadata__} entry; empty when the file has none. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor {@code name}; the error lists the tensors that do exist. */
    public Tensor get(String name) throws FormatException {
        Tensor t = tensors.get(name);
        if (t == null) throw new FormatException(file, name, "no such tensor; the file has " + tensors.keySet());
        return t;
    }

    /** Unmaps the tensors when this file owns its arena; with a caller's arena the caller decides. */
    @Override
    public void close() {
        if (ownedArena != null && ownedArena.scope().isAlive()) ownedArena.close();
    }
}
