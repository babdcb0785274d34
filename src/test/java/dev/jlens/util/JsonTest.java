package dev.jlens.util;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.*;

class JsonTest {
    @Test
    void aDuplicateKeyIsRefusedNamingIt() {
        JsonProcessingException e = assertThrows(JsonProcessingException.class,
                () -> Json.MAPPER.readTree("{\"layer\": 12,\n \"inner\": {\"a\": 1, \"a\": 2}}"));
        assertTrue(e.getOriginalMessage().contains("Duplicate field 'a'"), e.getMessage());
        assertEquals(2, e.getLocation().getLineNr());
        assertDoesNotThrow(() -> Json.MAPPER.readTree("{\"a\": 1, \"b\": {\"a\": 2}}"), "the same key in different objects is fine");
    }
}
