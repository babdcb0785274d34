package dev.jlens.util;

import dev.jlens.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The result files' mapper: snake_case with an underscore before every capital (as the CSV columns), the format first,
 * non-finite numbers as null, a round trip back to the record, and a missing or other format refused naming file and
 * field; the internal mapper keeps the components' own names.
 */
class JsonFilesTest {
    @TempDir Path dir;

    record Stats(int dSae, double meanL0, double permutationPValue, double pValue, String hookName, String sha256, Map<String, Double> meanByFacet) {}

    @Test
    void resultFilesAreSnakeCaseWithTheirFormatFirstAndRoundTrip() throws IOException {
        Path f = dir.resolve("x.json");
        Stats s = new Stats(16384, 71.5, 0.001, Double.NaN, "blocks.12.hook_resid_post", "ab", Map.of("cuisine", 1.5));
        Json.writeFile(f, Json.METRICS_FORMAT, s);
        String text = Files.readString(f);
        assertTrue(text.startsWith("{\n  \"format\" : \"jlens-metrics/2\",\n  \"d_sae\" : 16384,"), text);
        for (String k : new String[] {"\"mean_l0\"", "\"permutation_p_value\"", "\"p_value\" : null", "\"hook_name\"", "\"sha256\"", "\"cuisine\" : 1.5"}) {
            assertTrue(text.contains(k), k + " in " + text);
        }
        Stats finite = new Stats(16384, 71.5, 0.001, 2.5e-76, "blocks.12.hook_resid_post", "ab", Map.of("cuisine", 1.5));
        Json.writeFile(f, Json.METRICS_FORMAT, finite);
        assertEquals(finite, Json.readFile(f, Json.METRICS_FORMAT, Stats.class));
        assertTrue(Json.MAPPER.writeValueAsString(s).contains("\"permutationPValue\""), "internal files keep the components' names");
    }

    @Test
    void aMissingOrOtherFormatIsRefusedNamingFileAndField() throws IOException {
        Path old = dir.resolve("old.json");
        Files.writeString(old, "{\"dSae\": 16384, \"hookName\": \"blocks.12.hook_resid_post\"}");
        FormatException e = assertThrows(FormatException.class, () -> Json.readFile(old, Json.METRICS_FORMAT, Stats.class));
        assertTrue(e.getMessage().startsWith(old + ": format: missing") && e.getMessage().contains("older jlens"), e.getMessage());
        Path other = dir.resolve("other.json");
        Files.writeString(other, "{\"format\": \"jlens-capture/2\"}");
        e = assertThrows(FormatException.class, () -> Json.readFileTree(other, Json.RESULTS_FORMAT));
        assertTrue(e.getMessage().contains("\"jlens-capture/2\": expected \"jlens-results/2\""), e.getMessage());
        Path array = dir.resolve("array.json");
        Files.writeString(array, "[1]");
        assertThrows(FormatException.class, () -> Json.readFileTree(array, Json.RESULTS_FORMAT));
    }
}
