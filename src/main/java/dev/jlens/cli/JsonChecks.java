package dev.jlens.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Strict JSON checks of the files a command line names, made before any work: a duplicate key (JSON leaves it
 * undefined; Jackson keeps the last one) or a string holding a lone UTF-16 surrogate escape ({@code "\ud800"}, which
 * has no UTF-8 form and became '?' on the way to the tokenizer) is bad input naming the file, the line and the key.
 * The readers further down accept both; the command line refuses them first.
 */
final class JsonChecks {
    private JsonChecks() {}

    private static final JsonMapper STRICT = JsonMapper.builder().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    /** Each non-blank line of a JSON Lines file, checked as below (blank lines and syntax are left to the reader). */
    static void jsonLines(Path file) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            return; // the reader names the line and byte
        }
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (!lines[i].isBlank()) strict(file, lines[i], i + 1);
        }
    }

    /**
     * One JSON text: no duplicate key, no lone surrogate in a key or string. Syntax errors are left to the reader that
     * follows (it reports them in its own words), except where they hide one of these.
     *
     * @param line the line of a JSON Lines file, or null for a whole file (then the parser's line is used)
     */
    static void strict(Path file, String json, Integer line) throws IOException {
        try (JsonParser p = STRICT.createParser(json)) {
            String key = null;
            for (JsonToken t; (t = p.nextToken()) != null; ) {
                if (t == JsonToken.FIELD_NAME) {
                    key = p.currentName();
                    surrogates(file, where(line, p.currentLocation(), "key '" + printable(key) + "'"), key);
                } else if (t == JsonToken.VALUE_STRING) {
                    surrogates(file, where(line, p.currentLocation(), key == null ? "string" : "key '" + printable(key) + "'"), p.getText());
                }
            }
        } catch (JsonParseException e) {
            String m = e.getOriginalMessage();
            if (m != null && m.startsWith("Duplicate field")) {
                String k = m.substring(m.indexOf('\'') + 1, m.lastIndexOf('\''));
                throw new IllegalArgumentException(file + ": " + where(line, e.getLocation(), "key '" + k + "'")
                        + ": duplicate key (JSON leaves its meaning undefined; give each key once)");
            }
            // other syntax errors: the reader reports them
        }
    }

    private static String where(Integer line, JsonLocation loc, String what) {
        long l = line != null ? line : loc == null ? -1 : loc.getLineNr();
        return (l > 0 ? "line " + l + ", " : "") + what;
    }

    private static void surrogates(Path file, String where, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(file + ": " + where + ": lone UTF-16 surrogate \\u" + String.format("%04x", (int) c)
                        + " at character " + i + " (it has no UTF-8 form; a JSON string must encode whole characters)");
            }
        }
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) b.append(Character.isSurrogate(c) || Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c));
        return b.toString();
    }

    /**
     * A JSON file a command reads into a fixed structure (results.json): Jackson's own failure turned into bad input
     * naming the file, the field path and the problem.
     */
    static IllegalArgumentException describe(Path file, JsonProcessingException e) {
        String field;
        if (e instanceof JsonMappingException m && !m.getPath().isEmpty()) {
            StringBuilder b = new StringBuilder();
            for (JsonMappingException.Reference r : m.getPath()) {
                if (r.getFieldName() != null) b.append(b.isEmpty() ? "" : ".").append(r.getFieldName());
                else if (r.getIndex() >= 0) b.append('[').append(r.getIndex()).append(']');
            }
            field = "field '" + b + "'";
            JsonLocation l = e.getLocation();
            if (l != null && l.getLineNr() > 0) field += " (line " + l.getLineNr() + ", column " + l.getColumnNr() + ")";
        } else {
            JsonLocation l = e.getLocation();
            field = l == null ? "json" : "line " + l.getLineNr() + ", column " + l.getColumnNr();
        }
        String msg = e.getOriginalMessage() == null ? e.getClass().getSimpleName() : e.getOriginalMessage();
        for (String tail : new String[] {" (class ", " (start marker at", "\n at [Source"}) {
            int cut = msg.indexOf(tail);
            if (cut > 0) msg = msg.substring(0, cut);
        }
        return new IllegalArgumentException(file + ": " + field + ": " + msg.strip(), e);
    }
}
