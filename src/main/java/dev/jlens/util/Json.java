package dev.jlens.util;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.jlens.formats.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The one ObjectMapper of the pipeline: sorted-by-declaration output, indented, and no NaN/Infinity
 * in any file we write (non-finite doubles and floats become null, which every JSON reader accepts). Reading refuses a
 * duplicate key (the parser's message names it and its line).
 */
public final class Json {
    private Json() {}

    public static final ObjectMapper MAPPER = build();

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

    /** Writes a value as JSON atomically. */
    public static void write(Path file, Object value) throws IOException {
        byte[] bytes = MAPPER.writeValueAsBytes(value);
        AtomicFiles.writeStream(file, out -> {
            out.write(bytes);
            out.write('\n');
        });
    }
}
