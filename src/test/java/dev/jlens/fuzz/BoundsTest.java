package dev.jlens.fuzz;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.PromptSet;
import dev.jlens.formats.FormatException;
import dev.jlens.formats.GgufFile;
import dev.jlens.formats.Npy;
import dev.jlens.formats.Npz;
import dev.jlens.formats.Safetensors;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tiny files that declare huge sizes must be refused fast and without allocating what they claim.
 * Complements the single-field cases in dev.jlens.formats with ones those do not cover: counts and
 * lengths at 2^62/2^63, the exact 100 MB + 1 boundary, a 4 GB zip size without ZIP64, a
 * 65535-byte npy header of garbage, and a prompt file with many distinct duplicates.
 */
class BoundsTest {
    @TempDir
    Path dir;

    private Path file(String name, byte[] b) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, b);
        return p;
    }

    /** Fails with FormatException within a second; the runner thread owns its own arena. */
    private static FormatException rejectsFast(Executable open) {
        return assertTimeoutPreemptively(Duration.ofSeconds(1), () -> assertThrows(FormatException.class, open));
    }

    @Test
    void ggufWithTwoToThe63TensorsIsRejectedWithoutAllocating() throws IOException {
        Path p = file("n.gguf", Samples.seeds(ReaderContract.Target.GGUF, dir).get("bad-n-tensors-2pow63"));
        FormatException e = rejectsFast(() -> GgufFile.open(p).close());
        assertTrue(e.field().equals("n_tensors"), e.getMessage());
    }

    @Test
    void ggufKeyOfLengthTwoToThe62IsRejectedWithoutAllocating() throws IOException {
        Path p = file("s.gguf", Samples.seeds(ReaderContract.Target.GGUF, dir).get("bad-key-length-2pow62"));
        FormatException e = rejectsFast(() -> GgufFile.open(p).close());
        assertTrue(e.getMessage().contains("4611686018427387904"), e.getMessage());
    }

    @Test
    void ggufStringArrayOfTwoToThe62ElementsIsRejected() throws IOException {
        // one KV: "a" = ARRAY of STRING with 2^62 elements, then nothing
        byte[] b = Samples.cat(Samples.le(24).putInt(0x46554747).putInt(3).putLong(0).putLong(1).array(),
                Samples.le(8).putLong(1).array(), new byte[] {'a'}, Samples.le(16).putInt(9).putInt(8).putLong(1L << 62).array());
        Path p = file("a.gguf", b);
        FormatException e = rejectsFast(() -> GgufFile.open(p).close());
        assertTrue(e.field().equals("a") && e.getMessage().contains("4611686018427387904"), e.getMessage());
    }

    @Test
    void safetensorsHeaderOfExactlyTheLimitPlusOneIsRejected() throws IOException {
        Path p = file("h.safetensors", Samples.seeds(ReaderContract.Target.SAFETENSORS, dir).get("bad-header-100MB-plus-1"));
        FormatException e = rejectsFast(() -> Safetensors.open(p).close());
        assertTrue(e.getMessage().contains("104857601"), e.getMessage());
    }

    @Test
    void npyV1HeaderOf65535GarbageBytesIsRejected() throws IOException {
        Path p = file("g.npy", Samples.seeds(ReaderContract.Target.NPY, dir).get("bad-header-len-65535-garbage"));
        rejectsFast(() -> { try (Arena a = Arena.ofConfined()) { Npy.read(p, a); } });
    }

    @Test
    void npyV2HeaderLengthOf4GBIsRejected() throws IOException {
        Path p = file("g2.npy", Samples.seeds(ReaderContract.Target.NPY, dir).get("bad-header-len-4G"));
        FormatException e = rejectsFast(() -> { try (Arena a = Arena.ofConfined()) { Npy.read(p, a); } });
        assertTrue(e.getMessage().contains("4294967295"), e.getMessage());
    }

    @Test
    void npzDeclaringFourGigabytesWithoutZip64IsRejectedAsBomb() throws IOException {
        Path p = file("b.npz", Samples.seeds(ReaderContract.Target.NPZ, dir).get("bad-bomb-declares-4GB-no-zip64"));
        rejectsFast(() -> Npz.open(p).close());
    }

    @Test
    void npzDeclaringTwoGigabytesInATinyArchiveIsRejected() throws IOException {
        Path p = file("b2.npz", Samples.seeds(ReaderContract.Target.NPZ, dir).get("bad-bomb-declares-2GB"));
        FormatException e = rejectsFast(() -> Npz.open(p).close());
        assertTrue(e.getMessage().contains("2147483647"), e.getMessage());
    }

    /** 2 MB of "a\na\nb\nb\n...": a duplicate check that scans a list per line would be quadratic here. */
    @Test
    void promptFileWithManyDistinctDuplicatesLoadsInLinearTime() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 100_000; i++) sb.append('p').append(i).append('\n').append('p').append(i).append('\n');
        Path p = file("d.txt", sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        PromptSet set = assertTimeoutPreemptively(Duration.ofSeconds(3), () -> PromptSet.load(p));
        assertTrue(set.duplicates().size() == 100_000, "duplicates: " + set.duplicates().size());
    }
}
