package dev.jlens.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jlens.fuzz.ReaderContract.Target;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Jazzer fuzz targets, one per reader. A plain {@code mvn test} runs them in regression mode: each
 * replays the committed inputs in {@code src/test/resources/dev/jlens/fuzz/ReaderFuzzTestInputs/<method>/}
 * (plus Jazzer's empty input); {@link #everyCommittedSeedWasReplayed} proves the replay happened.
 *
 * <p>Coverage-guided fuzzing of one target (Jazzer fuzzes one method per JVM):
 * <pre>
 * JAZZER_FUZZ=1 mvn test -Dtest='ReaderFuzzTest#npy' -Djlens.fuzz.maxMillis=5000 -Djlens.build.dir=/tmp/jlens-fuzz-build
 * </pre>
 * New coverage lands in {@code .cifuzz-corpus/} (not committed); a crashing input is written into the
 * method's inputs directory, where it then becomes a regression test. See docs/fuzzing.md.
 */
class ReaderFuzzTest {
    static {
        // Replaying the corpus needs no coverage hooks, and retransforming every loaded class for them
        // costs ~20 s per test JVM; only a fuzzing run (JAZZER_FUZZ set) gets the full instrumentation.
        if (System.getenv("JAZZER_FUZZ") == null && System.getProperty("jazzer.hooks") == null) System.setProperty("jazzer.hooks", "false");
    }

    /** Per-target fuzzing time; Jazzer 0.24's JUnit runner takes it from the annotation, not from -Djazzer.max_duration. */
    static final String FUZZ_DURATION = "90s";

    private static final Map<Target, AtomicInteger> REPLAYED = new EnumMap<>(Target.class);
    private static Path dir;

    @BeforeAll
    static void scratch() throws IOException {
        dir = Files.createTempDirectory("jlens-fuzz");
        for (Target t : Target.values()) REPLAYED.put(t, new AtomicInteger());
    }

    @AfterAll
    static void removeScratch() throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static void run(Target target, byte[] input) throws IOException {
        REPLAYED.get(target).incrementAndGet();
        ReaderContract.check(target, input, dir);
    }

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void npy(byte[] input) throws IOException { run(Target.NPY, input); }

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void npz(byte[] input) throws IOException { run(Target.NPZ, input); }

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void safetensors(byte[] input) throws IOException { run(Target.SAFETENSORS, input); }

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void gguf(byte[] input) throws IOException { run(Target.GGUF, input); }

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void promptsJsonl(byte[] input) throws IOException { run(Target.PROMPTS_JSONL, input); }

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void promptsTxt(byte[] input) throws IOException { run(Target.PROMPTS_TXT, input); }

    @FuzzTest(maxDuration = FUZZ_DURATION)
    void saeConfig(byte[] input) throws IOException { run(Target.SAE_CONFIG, input); }

    static String method(Target t) {
        return switch (t) {
            case NPY -> "npy";
            case NPZ -> "npz";
            case SAFETENSORS -> "safetensors";
            case GGUF -> "gguf";
            case PROMPTS_JSONL -> "promptsJsonl";
            case PROMPTS_TXT -> "promptsTxt";
            case SAE_CONFIG -> "saeConfig";
        };
    }

    /**
     * Runs after the fuzz tests: every target that ran at all (a filtered run may select only one)
     * must have seen at least each committed seed of its directory, else Jazzer is not replaying.
     */
    @AfterAll
    static void everyCommittedSeedWasReplayed() throws IOException {
        for (Target t : Target.values()) {
            int n = REPLAYED.get(t).get();
            if (n == 0) continue;
            long seeds = Corpus.seeds(t).size();
            assertTrue(seeds > 0, t + ": no committed seeds");
            assertTrue(n >= seeds, t + ": Jazzer replayed " + n + " inputs but " + seeds + " seeds are committed");
        }
    }
}
