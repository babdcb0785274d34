package dev.jlens.fuzz;

import dev.jlens.fuzz.ReaderContract.Target;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The committed seed corpus: {@code src/test/resources/dev/jlens/fuzz/ReaderFuzzTestInputs/<method>/},
 * Jazzer's inputs-directory convention, so the same files are Jazzer's regression inputs.
 *
 * <p>Regenerate after a writer change (from the repository root, after {@code mvn test-compile}):
 * <pre>
 * java --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
 *   -cp target/test-classes:target/classes:$(mvn -q dependency:build-classpath -Dmdep.outputFile=/dev/stdout) \
 *   dev.jlens.fuzz.Corpus src/test/resources/dev/jlens/fuzz/ReaderFuzzTestInputs
 * </pre>
 */
final class Corpus {
    private Corpus() {}

    /** The seeds of {@code t} on the test classpath, sorted by name. */
    static List<Path> seeds(Target t) throws IOException {
        URL url = Corpus.class.getResource("ReaderFuzzTestInputs/" + ReaderFuzzTest.method(t));
        if (url == null) return List.of();
        try (Stream<Path> s = Files.list(Path.of(url.toURI()))) {
            return s.filter(Files::isRegularFile).sorted().toList();
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args[0]);
        Path scratch = Files.createTempDirectory("jlens-seeds");
        for (Target t : Target.values()) {
            Path d = root.resolve(ReaderFuzzTest.method(t));
            Files.createDirectories(d);
            for (Map.Entry<String, byte[]> e : Samples.seeds(t, scratch).entrySet()) {
                Files.write(d.resolve(e.getKey() + t.extension), e.getValue());
            }
        }
        Files.delete(scratch);
    }
}
