package dev.jlens.sae;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.api.Toys;
import dev.jlens.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which registry is read: -Djlens.registry, else the models directory's registry.json, else the copy built into the
 * jar (the checkout's models/registry.json, as a resource); paths resolve against the models directory in each case.
 * PackagedJarUsabilityIT runs the same from an empty folder against the packaged jar.
 */
class SaeRegistryLocationTest {
    @TempDir Path tmp;

    private static final String USER = """
            {"releases": {"my-release": {"format": "gemma-scope-npz", "hook_layer": 5,
              "saes": {"toy": {"path": "mine/layer_5/params.npz", "d_in": 64, "d_sae": 256}}}}}
            """;

    @Test
    void anEmptyModelsDirectoryReadsTheBuiltInCopyOfTheCheckoutsRegistry() throws Exception {
        Path models = Files.createDirectories(tmp.resolve("empty/models"));
        SaeRegistry reg = SaeRegistry.load(null, models);
        assertEquals(Path.of(SaeRegistry.BUILT_IN), reg.file());
        Path checkout = Path.of(System.getProperty("jlens.project.dir"), "models/registry.json");
        assertEquals(new ObjectMapper().readTree(checkout.toFile()), reg.json(), "the built-in copy is models/registry.json");
        SaeRegistry.Entry e = reg.find("jlens-toy", "planted-france/coarse");
        assertEquals(models.resolve("generated/planted-france/coarse/params.npz"), e.path(), "paths resolve against the models directory");
        assertEquals(512, e.dSae());
        assertTrue(reg.hasRelease("gemma-scope-2b-pt-res"));
        assertEquals(reg.json(), SaeRegistry.load("", models).json(), "a blank -Djlens.registry names none");
    }

    @Test
    void aUserRegistryInTheModelsDirectoryReplacesTheBuiltInOneAndLoadsItsSae() throws Exception {
        Path models = Files.createDirectories(tmp.resolve("models"));
        Files.writeString(models.resolve("registry.json"), USER);
        new Toys.RandomSae(64, 256, 4, 16, 5).writeGemmaScopeNpz(models.resolve("mine/layer_5/params.npz"));
        SaeRegistry reg = SaeRegistry.load(null, models);
        assertEquals(models.resolve("registry.json"), reg.file());
        assertTrue(reg.hasRelease("my-release"));
        assertFalse(reg.hasRelease("jlens-toy"), "the user's file replaces the built-in one, it is not merged");
        try (Sae sae = SaeLoader.fromPretrained(reg, "my-release", "toy")) {
            assertEquals(256, sae.dSae());
            assertEquals("blocks.5.hook_resid_post", sae.cfg().hookName());
        }
    }

    @Test
    void anExplicitRegistryWinsOverTheModelsDirectorysAndMustExist() throws Exception {
        Path models = Files.createDirectories(tmp.resolve("models"));
        Files.writeString(models.resolve("registry.json"), "{\"releases\": {}}");
        Path explicit = tmp.resolve("elsewhere/reg.json");
        Files.createDirectories(explicit.getParent());
        Files.writeString(explicit, USER);
        SaeRegistry reg = SaeRegistry.load(explicit.toString(), models);
        assertEquals(explicit, reg.file());
        assertEquals(models.resolve("mine/layer_5/params.npz"), reg.find("my-release", "toy").path(), "still relative to the models directory");

        Path missing = tmp.resolve("nope.json");
        FormatException ex = assertThrows(FormatException.class, () -> SaeRegistry.load(missing.toString(), models));
        assertTrue(ex.getMessage().contains(missing.toString()) && ex.getMessage().contains("-Djlens.registry"), ex.getMessage());

        Files.writeString(models.resolve("registry.json"), "{\"releases\": ");
        FormatException bad = assertThrows(FormatException.class, () -> SaeRegistry.load(null, models));
        assertTrue(bad.getMessage().contains(models.resolve("registry.json").toString()), "a malformed user file is an error, never skipped: " + bad.getMessage());
    }
}
