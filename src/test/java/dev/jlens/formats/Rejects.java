package dev.jlens.formats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;

/** Asserts that a reader fails with exactly a FormatException naming the file, the field and the value. */
final class Rejects {
    private Rejects() {}

    @FunctionalInterface
    interface Body {
        void run() throws Throwable;
    }

    static FormatException assertRejects(Path file, String field, String valueInMessage, Body body) {
        try {
            body.run();
        } catch (FormatException e) {
            assertEquals(file, e.file(), "file");
            assertTrue(e.field().contains(field), () -> "field '" + e.field() + "' should name '" + field + "'; message: " + e.getMessage());
            assertTrue(e.getMessage().contains(file.toString()), () -> "message should name the file: " + e.getMessage());
            assertTrue(e.getMessage().contains(valueInMessage), () -> "message should contain '" + valueInMessage + "': " + e.getMessage());
            return e;
        } catch (Throwable t) {
            throw new AssertionError("expected FormatException but got " + t, t);
        }
        return fail("expected FormatException naming " + field + " but nothing was thrown");
    }
}
