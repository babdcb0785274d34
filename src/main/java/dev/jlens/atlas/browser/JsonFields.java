package dev.jlens.atlas.browser;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.formats.FormatException;

import java.nio.file.Path;

/**
 * Typed reads of one JSON object of the atlas folder; every failure is a {@link FormatException} naming the file,
 * where in it ({@code where}, e.g. "line 12: feature 337") and the field path.
 */
record JsonFields(Path file, String where, JsonNode node) {

    /** The fields of the object {@code child} of this one. */
    JsonFields object(String child) throws FormatException {
        JsonNode n = required(child);
        if (!n.isObject()) throw error(child, "expected an object, found " + shape(n));
        return new JsonFields(file, prefixed(child), n);
    }

    /** The array {@code child}; empty when absent and {@code optional}. */
    JsonNode array(String child, boolean optional) throws FormatException {
        JsonNode n = node.get(child);
        if (n == null || n.isNull()) {
            if (optional) return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
            throw error(child, "missing");
        }
        if (!n.isArray()) throw error(child, "expected an array, found " + shape(n));
        return n;
    }

    /** The fields of an element of an array of objects, named {@code child[i]}. */
    JsonFields element(String child, int i, JsonNode element) throws FormatException {
        String name = child + "[" + i + "]";
        if (!element.isObject()) throw error(name, "expected an object, found " + shape(element));
        return new JsonFields(file, prefixed(name), element);
    }

    long longValue(String child) throws FormatException {
        JsonNode n = required(child);
        if (!n.canConvertToExactIntegral() || !n.canConvertToLong()) throw error(child, "expected an integer, found " + shape(n));
        return n.longValue();
    }

    int intValue(String child) throws FormatException {
        long v = longValue(child);
        if (v != (int) v) throw error(child, "integer out of range: " + v);
        return (int) v;
    }

    /** A finite number. */
    double doubleValue(String child) throws FormatException {
        JsonNode n = required(child);
        if (!n.isNumber() || !Double.isFinite(n.doubleValue())) throw error(child, "expected a finite number, found " + shape(n));
        return n.doubleValue();
    }

    String text(String child) throws FormatException {
        JsonNode n = required(child);
        if (!n.isTextual()) throw error(child, "expected a string, found " + shape(n));
        return n.textValue();
    }

    /** The string {@code child}, or null when absent or JSON null. */
    String optionalText(String child) throws FormatException {
        JsonNode n = node.get(child);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw error(child, "expected a string or null, found " + shape(n));
        return n.textValue();
    }

    /** A finite number array element. */
    double number(String child, int i, JsonNode element) throws FormatException {
        if (!element.isNumber() || !Double.isFinite(element.doubleValue())) {
            throw error(child + "[" + i + "]", "expected a finite number, found " + shape(element));
        }
        return element.doubleValue();
    }

    /** A non-negative integer array element. */
    long count(String child, int i, JsonNode element) throws FormatException {
        if (!element.canConvertToExactIntegral() || element.longValue() < 0) {
            throw error(child + "[" + i + "]", "expected a non-negative integer, found " + shape(element));
        }
        return element.longValue();
    }

    String string(String child, int i, JsonNode element) throws FormatException {
        if (!element.isTextual()) throw error(child + "[" + i + "]", "expected a string, found " + shape(element));
        return element.textValue();
    }

    FormatException error(String child, String problem) {
        return new FormatException(file, prefixed(child), problem);
    }

    private JsonNode required(String child) throws FormatException {
        JsonNode n = node.get(child);
        if (n == null) throw error(child, "missing");
        return n;
    }

    /** {@code where} is a path ("top[3]") or a location ending in a space ("line 12, feature 337: "). */
    private String prefixed(String child) {
        return where.isEmpty() || where.endsWith(" ") ? where + child : where + "." + child;
    }

    /** A short description of a value for error messages (never the whole subtree). */
    private static String shape(JsonNode n) {
        if (n.isContainerNode()) return n.isArray() ? "an array of " + n.size() : "an object";
        String s = n.toString();
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
