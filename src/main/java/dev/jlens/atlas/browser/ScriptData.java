package dev.jlens.atlas.browser;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.jlens.util.Json;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the browser's data files: JavaScript that hands one JSON value to a registration function of the page
 * ({@code jlensAtlas.page(3, {...});}), so the page loads them with {@code <script src>}, which works from
 * {@code file://} where fetch and XHR of local files do not. Strings escape {@code < > &} and U+2028/U+2029, so no
 * token text can end a script element or a JavaScript line early.
 */
final class ScriptData {
    /** The page's global object that the data files call. */
    static final String GLOBAL = "jlensAtlas";

    private ScriptData() {}

    /** Writes the JSON value of one data file. */
    @FunctionalInterface
    interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    /** Writes {@code file} as {@code jlensAtlas.function(key, value);}; returns its size in bytes. */
    static long write(Path file, String function, int key, Body body) throws IOException {
        return writeCall(file, function + "(" + key + ", ", body);
    }

    /** Writes {@code file} as {@code jlensAtlas.function(value);}; returns its size in bytes. */
    static long write(Path file, String function, Body body) throws IOException {
        return writeCall(file, function + "(", body);
    }

    private static long writeCall(Path file, String head, Body body) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write(GLOBAL + "." + head);
            try (JsonGenerator g = generator(w)) {
                body.write(g);
            }
            w.write(");\n");
        }
        return Files.size(file);
    }

    /** A compact generator over {@code out} that leaves {@code out} open. */
    static JsonGenerator generator(Writer out) throws IOException {
        JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out);
        g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        g.setCharacterEscapes(ScriptSafe.INSTANCE);
        return g;
    }

    /** Writes a float in its shortest round-trip text, and zero as {@code 0} (most window values are zero). */
    static void number(JsonGenerator g, float v) throws IOException {
        if (v == 0f) g.writeNumber(0);
        else g.writeNumber(v);
    }

    private static final class ScriptSafe extends CharacterEscapes {
        static final ScriptSafe INSTANCE = new ScriptSafe();
        private final int[] ascii = CharacterEscapes.standardAsciiEscapesForJSON();

        private ScriptSafe() {
            ascii['<'] = CharacterEscapes.ESCAPE_STANDARD;
            ascii['>'] = CharacterEscapes.ESCAPE_STANDARD;
            ascii['&'] = CharacterEscapes.ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            return switch (ch) {
                case 0x2028 -> new SerializedString("\\u2028");
                case 0x2029 -> new SerializedString("\\u2029");
                default -> null;
            };
        }
    }
}
