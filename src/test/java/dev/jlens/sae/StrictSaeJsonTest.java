package dev.jlens.sae;

import dev.jlens.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Issue 17 point 9: cfg.json and registry.json read by the library refuse a duplicate key (Jackson kept the last one). */
class StrictSaeJsonTest {
    @TempDir Path tmp;

    static void namesDuplicate(Exception e, Path file, String key) {
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("'" + key + "'")
                && e.getMessage().toLowerCase().contains("duplicate"), e.getMessage());
    }

    @Test
    void cfgJsonWithAKeyTwiceIsRejectedNamingTheKey() throws Exception {
        String good = SaeConfig.gemmaScope(64, 128, 5, null).toJson();
        Path ok = Files.writeString(tmp.resolve("ok.json"), good);
        assertEquals(128, SaeConfig.read(ok).dSae(), "the normalised cfg.json still reads");
        Path dup = Files.writeString(tmp.resolve("cfg.json"), good.replaceFirst("\\{", "{\"d_sae\": 4096,"));
        namesDuplicate(assertThrows(FormatException.class, () -> SaeConfig.read(dup)), dup, "d_sae");
    }

    @Test
    void readJsonAndTheRegistryRejectAKeyTwice() throws Exception {
        Path f = Files.writeString(tmp.resolve("x.json"), "{\"a\": 1, \"b\": {\"c\": 1, \"c\": 2}}");
        namesDuplicate(assertThrows(FormatException.class, () -> SaeLoader.readJson(f)), f, "c");
        Path models = Files.createDirectories(tmp.resolve("models"));
        Path reg = Files.writeString(models.resolve("registry.json"), """
                {"releases": {"my-release": {"format": "gemma-scope-npz", "hook_layer": 5, "hook_layer": 7,
                  "saes": {"toy": {"path": "mine/layer_5/params.npz", "d_in": 64, "d_sae": 256}}}}}
                """);
        namesDuplicate(assertThrows(FormatException.class, () -> SaeRegistry.load(null, models)), reg, "hook_layer");
    }
}
