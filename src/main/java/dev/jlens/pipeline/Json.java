package dev.jlens.pipeline;

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
 * in any file we write (non-finite doubles and floats become null, which every JSON reader accepts).
 */
public final class Json {
    private Json() {}

    public static final ObjectMapper MAPPER = build();

    private static ObjectMapper build() {
        SimpleModule finite = new SimpleModule("finite-only");
        finite.addSerializer(Double.class, new StdSerializer<>(Double.class) {
            @Override
            public void serialize(Double v, JsonGenerator g, com.fasterxml.jackson.databind.SerializerProvider p) throws IOException {
                if (v == null || !Double.isFinite(v)) g.writeNull(); else g.writeNumber(v);
            }
        });
        finite.addSerializer(double.class, new StdSerializer<>(double.class) {
            @Override
            public void serialize(Double v, JsonGenerator g, com.fasterxml.jackson.databind.SerializerProvider p) throws IOException {
                if (!Double.isFinite(v)) g.writeNull(); else g.writeNumber(v);
            }
        });
        finite.addSerializer(Float.class, new StdSerializer<>(Float.class) {
            @Override
            public void serialize(Float v, JsonGenerator g, com.fasterxml.jackson.databind.SerializerProvider p) throws IOException {
                if (v == null || !Float.isFinite(v)) g.writeNull(); else g.writeNumber(v);
            }
        });
        finite.addSerializer(float.class, new StdSerializer<>(float.class) {
            @Override
            public void serialize(Float v, JsonGenerator g, com.fasterxml.jackson.databind.SerializerProvider p) throws IOException {
                if (!Float.isFinite(v)) g.writeNull(); else g.writeNumber(v);
            }
        });
        // primitive arrays (matrices, PCA ratios) bypass the element serializers above
        finite.addSerializer(double[].class, new StdSerializer<>(double[].class) {
            @Override
            public void serialize(double[] v, JsonGenerator g, com.fasterxml.jackson.databind.SerializerProvider p) throws IOException {
                g.writeStartArray(v, v.length);
                for (double d : v) if (Double.isFinite(d)) g.writeNumber(d); else g.writeNull();
                g.writeEndArray();
            }
        });
        finite.addSerializer(float[].class, new StdSerializer<>(float[].class) {
            @Override
            public void serialize(float[] v, JsonGenerator g, com.fasterxml.jackson.databind.SerializerProvider p) throws IOException {
                g.writeStartArray(v, v.length);
                for (float d : v) if (Float.isFinite(d)) g.writeNumber(d); else g.writeNull();
                g.writeEndArray();
            }
        });
        return JsonMapper.builder()
                .addModule(finite)
                .enable(SerializationFeature.INDENT_OUTPUT)
                .build();
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
