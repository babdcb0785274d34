package dev.jlens.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.fuzz.ReaderContract.Result;
import dev.jlens.fuzz.ReaderContract.Target;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The committed seeds, replayed without Jazzer: {@code valid-*} must open, {@code bad-*} must be rejected. */
class CorpusTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Target.class)
    void validSeedsOpenAndBadSeedsAreRejectedWithFormatException(Target t) throws IOException {
        List<Path> seeds = Corpus.seeds(t);
        assertTrue(seeds.size() >= 4, t + ": only " + seeds.size() + " seeds committed");
        for (Path p : seeds) {
            String name = p.getFileName().toString();
            Path copy = dir.resolve(name);
            Files.copy(p, copy);
            Result expected = name.startsWith("valid-") ? Result.OPENED : Result.REJECTED;
            assertTrue(name.startsWith("valid-") || name.startsWith("bad-") || name.startsWith("crash-"), "seed name must say what it is: " + name);
            assertEquals(expected, ReaderContract.check(t, copy), name);
        }
    }

    /** The committed seeds are exactly what the current writers produce, so the corpus cannot silently go stale. */
    @ParameterizedTest
    @EnumSource(Target.class)
    void committedSeedsMatchTheGenerator(Target t) throws IOException {
        Map<String, byte[]> generated = Samples.seeds(t, dir);
        for (Map.Entry<String, byte[]> e : generated.entrySet()) {
            Path committed = Corpus.seeds(t).stream().filter(p -> p.getFileName().toString().equals(e.getKey() + t.extension)).findFirst()
                    .orElseThrow(() -> new AssertionError(t + ": seed " + e.getKey() + " is not committed; regenerate (see Corpus)"));
            assertArrayEquals(e.getValue(), Files.readAllBytes(committed), committed.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Target.class)
    void corpusStaysSmall(Target t) throws IOException {
        long total = 0;
        for (Path p : Corpus.seeds(t)) total += Files.size(p);
        assertTrue(total < 256 * 1024, t + ": seeds take " + total + " bytes");
    }
}
