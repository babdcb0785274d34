package dev.jlens.api;

import dev.jlens.errors.InvalidFileException;
import dev.jlens.errors.InvalidModelFileException;
import dev.jlens.formats.Npz;
import dev.jlens.formats.NpzFile;
import dev.jlens.formats.NpzWriter;
import dev.jlens.formats.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bad files through the public API surface as the exported exception types of {@code dev.jlens.errors}, caught by
 * type as a library user would (no internal type named in the catch), with the file, the field and the offending value
 * in the message and in the accessors. The broken files are made here; the calls are the API's.
 */
class ApiErrorsTest {
    @TempDir Path dir;

    @Test
    void aMalformedSaeFileIsAnInvalidFileExceptionNamingFileFieldAndValue() throws Exception {
        Path good = dir.resolve("good/layer_12/width_256/params.npz");
        new Toys.RandomSae(64, 256, 7, 16).writeGemmaScopeNpz(good);
        // the same SAE with a b_dec of 63 values instead of d_in = 64
        Path bad = dir.resolve("bad/layer_12/width_256/params.npz");
        Files.createDirectories(bad.getParent());
        try (NpzFile in = Npz.open(good)) {
            Map<String, Tensor> members = new LinkedHashMap<>(in.members());
            Tensor b = members.get("b_dec");
            members.put("b_dec", new Tensor("b_dec", b.dtype(), new long[] {63}, b.data().asSlice(0, 63 * 4L)));
            NpzWriter.write(bad, members);
        }
        try (SparseAutoencoder ok = SparseAutoencoder.load(good.toString(), EncoderKind.SCALAR)) {
            assertEquals(64, ok.dIn()); // the unbroken file loads: the failure below is the b_dec change
        }
        InvalidFileException e = null;
        try (SparseAutoencoder sae = SparseAutoencoder.load(bad.toString(), EncoderKind.SCALAR)) {
            fail("a b_dec of 63 values loaded as d_in " + sae.dIn());
        } catch (InvalidFileException caught) {
            e = caught;
        }
        assertEquals(bad, e.file());
        assertEquals("b_dec", e.field());
        String m = e.getMessage();
        assertTrue(m.startsWith(bad + ": b_dec: ") && m.contains("[63]") && m.contains("d_in=64"), m);
        assertTrue(e.problem().contains("[63]"), e.problem());
        assertTrue(Failures.isBadInput(e));
        assertFalse(e.getClass().getPackageName().equals("dev.jlens.errors"), "thrown by the readers as their own subtype: " + e.getClass());
    }

    @Test
    void aMalformedModelFileIsAnInvalidModelFileExceptionNamingFileFieldAndValue() throws Exception {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'X', 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        InvalidModelFileException e = assertThrows(InvalidModelFileException.class, () -> {
            try (LensModel m = LensModel.load(bad)) {
                fail("loaded " + m);
            }
        });
        assertEquals(bad, e.file());
        assertEquals("magic", e.field());
        String m = e.getMessage();
        assertTrue(m.contains(bad.toString()) && m.contains("magic") && m.contains("0x58554747"), m); // 'GGUX' little-endian
        assertTrue(e.getCause() instanceof InvalidFileException c && c.file().equals(bad), String.valueOf(e.getCause()));
        assertTrue(Failures.isBadInput(e));
    }
}
