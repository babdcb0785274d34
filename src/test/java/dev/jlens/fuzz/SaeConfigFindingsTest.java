package dev.jlens.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jlens.formats.FormatException;
import dev.jlens.sae.SaeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Contract violations the SAE_CONFIG fuzz target found in SaeConfig (both were live bugs). */
class SaeConfigFindingsTest {
    @TempDir
    Path dir;

    @Test
    void jsonNullIsRejectedInsteadOfReturningNull() {
        FormatException e = assertThrows(FormatException.class, () -> SaeConfig.parse("null", dir.resolve("cfg.json")));
        assertEquals(dir.resolve("cfg.json"), e.file());
    }

    @Test
    void invalidUtf8IsAFormatExceptionNotAMalformedInputException() throws IOException {
        Path cfg = dir.resolve("cfg.json");
        Files.write(cfg, new byte[] {'{', '"', 'd', '"', ':', '"', (byte) 0xFF, '"', '}'});
        FormatException e = assertThrows(FormatException.class, () -> SaeConfig.read(cfg));
        assertEquals(cfg, e.file());
    }
}
