package dev.jlens.api;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The encoder's spellings: what the command line takes and results.json records, and what is refused. */
class EncoderKindTest {
    @Test
    void everySpellingParsesBackToItsKind() {
        assertEquals("auto,vector,ggml,ggml-gpu,scalar", String.join(",", java.util.Arrays.stream(EncoderKind.values()).map(String::valueOf).toList()));
        for (EncoderKind k : EncoderKind.values()) {
            assertEquals(k, EncoderKind.parse(k.toString()));
            assertEquals(k, EncoderKind.parse(k.toString().toUpperCase(java.util.Locale.ROOT)));
        }
    }

    @Test
    void anythingElseIsRefusedWithTheChoices() {
        for (String bad : new String[] {"foo", "ggml_gpu", "GGML GPU", "", "vectors"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EncoderKind.parse(bad), bad);
            assertTrue(e.getMessage().contains("\"" + bad + "\"") && e.getMessage().contains("ggml-gpu"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> EncoderKind.parse(null));
    }

    @Test
    void settingsRefuseABadValueWhenBuilt() {
        assertThrows(NullPointerException.class, () -> Experiment.Settings.builder().encoder(null).build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Experiment.Settings.builder().minCosine(1.5).build());
        assertTrue(e.getMessage().contains("minCosine"), e.getMessage());
        assertEquals(EncoderKind.AUTO, Experiment.Settings.defaults().encoder());
    }
}
