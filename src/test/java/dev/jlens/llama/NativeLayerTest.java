package dev.jlens.llama;

import dev.jlens.bindings.BindingsVersion;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class NativeLayerTest {
    @Test
    void loadedLibraryIsTheCommitTheBindingsWereGeneratedFrom() {
        NativeLibrary lib = NativeLibrary.load();
        assertTrue(BindingsVersion.COMMIT.startsWith(lib.ggmlCommit().replace("-dirty", "")),
                "loaded " + lib.ggmlCommit() + ", bindings from " + BindingsVersion.COMMIT);
        assertFalse(lib.systemInfo().isBlank());
    }

    @Test
    void aDifferentLibraryVersionGetsAClearMessage() {
        var e = assertThrows(LlamaException.class, () -> NativeLibrary.checkVersion(Path.of("/some/dir"), "deadbee"));
        assertTrue(e.getMessage().contains("deadbee") && e.getMessage().contains(BindingsVersion.COMMIT)
                && e.getMessage().contains("build-native.sh"), e.getMessage());
    }

    @Test
    void onlyTheNativeLayerImportsTheRawBindings() throws IOException {
        Path root = Path.of(System.getProperty("jlens.project.dir", ".")).resolve("src");
        List<Path> offenders;
        try (Stream<Path> files = Files.walk(root)) {
            offenders = files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !p.toString().contains("/dev/jlens/llama/"))
                    .filter(p -> {
                        try {
                            String s = Files.readString(p);
                            return s.contains("import dev.jlens.bindings") || s.contains("dev.jlens.bindings.");
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }).toList();
        }
        assertEquals(List.of(), offenders, "raw bindings used outside dev.jlens.llama");
    }
}
