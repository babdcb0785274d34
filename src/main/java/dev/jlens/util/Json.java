package dev.jlens.util;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.FormatException;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The ObjectMappers of the pipeline: sorted-by-declaration output, indented, and no NaN/Infinity
 * in any file we write (non-finite doubles and floats become null, which every JSON reader accepts). Reading refuses a
 * duplicate key (the parser's message names it and its line).
 *
 * <p>Two mappers, one rule each. {@link #FILES}: the result files jlens defines for people and other tools
 * (results.json, contrast.json, metrics.json, capture.json, steering.json; quant-impact.json builds its map with
 * {@link #snake}) have snake_case keys, like the CSVs, cfg.json
 * and SAELens, and a {@code "format"} field first ({@link #writeFile} / {@link #readFile}), so a file of an older jlens
 * (camelCase, no format) is refused naming the file and the field instead of reading as nulls. {@link #MAPPER}: everything
 * else keeps the record components' own names: the formats others define and jlens only reads as trees (SAELens cfg.json,
 * registry.json, prompt JSONL, Neuronpedia exports), and jlens's internal files whose names key caches or pass between
 * processes (ShardMeta, cache keys, the isolated worker's request), which no user reads and a rename would only
 * invalidate. atlas.json is written with explicit snake_case map keys.
 */
public final class Json {
    private Json() {}

    public static final ObjectMapper MAPPER = build();

    /** {@link #MAPPER} with snake_case property names: the mapper of the result files ({@link #writeFile}, {@link #readFile}). */
    public static final ObjectMapper FILES = build().setPropertyNamingStrategy(new SnakeCase());

    /**
     * snake_case with an underscore before every capital, so {@code permutationPValue} is {@code permutation_p_value} as in
     * the CSVs (Jackson's SNAKE_CASE joins runs of capitals: {@code permutation_pvalue}); {@code meanL0} is {@code mean_l0}.
     */
    static final class SnakeCase extends PropertyNamingStrategies.NamingBase {
        @Override
        public String translate(String name) {
            return snake(name);
        }
    }

    /** {@code permutationPValue} -> {@code permutation_p_value}: the result files' key for a Java name (for maps built by hand). */
    public static String snake(String name) {
        StringBuilder b = new StringBuilder(name.length() + 8);
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (Character.isUpperCase(c)) {
                if (i > 0) b.append('_');
                b.append(Character.toLowerCase(c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** {@code "format"} of results.json (an {@code ExperimentResult}); 2: snake_case keys (1 was camelCase, unmarked). */
    public static final String RESULTS_FORMAT = "jlens-results/2";
    /** {@code "format"} of contrast.json (one SAE's contrast statistics). */
    public static final String CONTRAST_FORMAT = "jlens-contrast/2";
    /** {@code "format"} of an encode's metrics.json. */
    public static final String METRICS_FORMAT = "jlens-metrics/2";
    /** {@code "format"} of a capture folder's capture.json. */
    public static final String CAPTURE_FORMAT = "jlens-capture/2";
    /** {@code "format"} of a steering study's steering.json. */
    public static final String STEERING_FORMAT = "jlens-steering/2";

    private static ObjectMapper build() {
        SimpleModule finite = new SimpleModule("finite-only");
        finite.addSerializer(Double.class, serializer(Double.class, (v, g) -> number(v, g)));
        finite.addSerializer(double.class, serializer(double.class, (v, g) -> number(v, g)));
        finite.addSerializer(Float.class, serializer(Float.class, (v, g) -> number(v, g)));
        finite.addSerializer(float.class, serializer(float.class, (v, g) -> number(v, g)));
        // primitive arrays (matrices, PCA ratios) bypass the element serializers above
        finite.addSerializer(double[].class, serializer(double[].class, (v, g) -> {
            g.writeStartArray(v, v.length);
            for (double d : v) number(d, g);
            g.writeEndArray();
        }));
        finite.addSerializer(float[].class, serializer(float[].class, (v, g) -> {
            g.writeStartArray(v, v.length);
            for (float d : v) number(d, g);
            g.writeEndArray();
        }));
        return JsonMapper.builder()
                .addModule(finite)
                // a key given twice is an error naming it (JSON leaves its meaning undefined; Jackson kept the last)
                .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .build();
    }

    private interface Body<T> {
        void write(T value, JsonGenerator g) throws IOException;
    }

    private static <T> StdSerializer<T> serializer(Class<T> type, Body<T> body) {
        return new StdSerializer<>(type) {
            @Override
            public void serialize(T v, JsonGenerator g, com.fasterxml.jackson.databind.SerializerProvider p) throws IOException {
                body.write(v, g);
            }
        };
    }

    /** A finite number as itself, anything else (null, NaN, infinities) as null. */
    private static void number(Number v, JsonGenerator g) throws IOException {
        if (v == null || !Double.isFinite(v.doubleValue())) g.writeNull();
        else if (v instanceof Float f) g.writeNumber(f);
        else g.writeNumber(v.doubleValue());
    }

    /**
     * Writes a result file atomically: {@code {"format": format, ...value's properties in snake_case}}. {@code value}
     * must serialize to a JSON object (a record).
     */
    public static void writeFile(Path file, String format, Object value) throws IOException {
        ObjectNode root = FILES.createObjectNode();
        root.put("format", format);
        JsonNode body = FILES.valueToTree(value);
        if (!(body instanceof ObjectNode o)) throw new IllegalArgumentException(format + ": not a JSON object: " + value);
        if (o.has("format")) throw new IllegalArgumentException(format + ": the value has its own 'format' property");
        root.setAll(o);
        byte[] bytes = FILES.writeValueAsBytes(root);
        AtomicFiles.writeStream(file, out -> {
            out.write(bytes);
            out.write('\n');
        });
    }

    /**
     * Reads a result file's tree and checks its {@code "format"}: a missing one (a file of a jlens before snake_case) or
     * another one is a {@link FormatException} naming the file and the field; so is a file that is not a JSON object.
     */
    public static ObjectNode readFileTree(Path file, String format) throws IOException {
        JsonNode root = FILES.readTree(file.toFile()); // malformed JSON: Jackson's exception, naming line and column
        if (!(root instanceof ObjectNode o)) throw new FormatException(file, "json", "not a JSON object");
        JsonNode f = o.get("format");
        if (f == null) {
            throw new FormatException(file, "format", "missing: expected \"" + format + "\"; written by an older jlens "
                    + "(camelCase keys such as \"hookName\", no format field): rerun the command that wrote it");
        }
        if (!format.equals(f.asText())) throw new FormatException(file, "format", f + ": expected \"" + format + "\"");
        return o;
    }

    /**
     * Reads a result file written by {@link #writeFile} as {@code type}: the format checked as {@link #readFileTree}
     * says, then every other key bound to a property (an unknown key or a value of the wrong type is Jackson's
     * {@link com.fasterxml.jackson.core.JsonProcessingException}, naming the key).
     */
    public static <T> T readFile(Path file, String format, Class<T> type) throws IOException {
        ObjectNode o = readFileTree(file, format).deepCopy();
        o.remove("format");
        return FILES.treeToValue(o, type); // a key of the wrong type or an unknown one: Jackson's exception, naming it
    }

    /** Writes a value as JSON atomically, with {@link #MAPPER} (the record components' own names). */
    public static void write(Path file, Object value) throws IOException {
        byte[] bytes = MAPPER.writeValueAsBytes(value);
        AtomicFiles.writeStream(file, out -> {
            out.write(bytes);
            out.write('\n');
        });
    }
}
