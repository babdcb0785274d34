package dev.jlens.formats;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads and writes the safetensors format: u64 little-endian header length, JSON header, then the
 * tensors' bytes. Readers get memory-mapped views; the whole data region must be accounted for.
 */
public final class Safetensors {
    static final long MAX_HEADER = 100L << 20;
    private static final Set<String> ENTRY_KEYS = Set.of("dtype", "shape", "data_offsets");
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private Safetensors() {}

    /** Opens {@code file} with mappings owned by {@code arena}; closing the result leaves the arena alone. */
    public static SafetensorsFile open(Path file, Arena arena) throws IOException {
        return parse(file, Npy.map(file, arena), null);
    }

    /** Opens {@code file} with its own shared arena, closed by {@link SafetensorsFile#close()}. */
    public static SafetensorsFile open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            return parse(file, Npy.map(file, arena), arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private record Span(String name, DType dtype, long[] shape, long begin, long end) {}

    static SafetensorsFile parse(Path file, MemorySegment seg, Arena owned) throws FormatException {
        long size = seg.byteSize();
        if (size < 8) throw new FormatException(file, "header_size", "file has " + size + " bytes, fewer than the 8-byte header length");
        long n = seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (n < 0 || n > MAX_HEADER) throw new FormatException(file, "header_size", "header size " + Long.toUnsignedString(n) + " exceeds the 100 MB limit");
        if (8 + n > size) throw new FormatException(file, "header_size", "header size " + n + " runs past the end of the file (" + size + " bytes)");
        byte[] hb = seg.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        if (n == 0 || hb[0] != '{') throw new FormatException(file, "header", "header does not start with '{'");
        JsonNode root;
        try {
            root = JSON.readTree(hb);
        } catch (JsonProcessingException e) {
            throw new FormatException(file, "header", "invalid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new FormatException(file, "header", "unreadable JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof ObjectNode obj)) throw new FormatException(file, "header", "header is not a JSON object");

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Span> spans = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : obj.properties()) {
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw new FormatException(file, "__metadata__", "is not a JSON object");
                for (Map.Entry<String, JsonNode> kv : v.properties()) {
                    if (!kv.getValue().isTextual()) throw new FormatException(file, "__metadata__." + kv.getKey(), "value " + kv.getValue() + " is not a string");
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            if (!v.isObject()) throw new FormatException(file, name, "entry is not a JSON object");
            for (Map.Entry<String, JsonNode> f : v.properties()) {
                String k = f.getKey();
                if (!ENTRY_KEYS.contains(k)) throw new FormatException(file, name, "unexpected key '" + k + "'");
            }
            JsonNode dt = v.get("dtype");
            if (dt == null || !dt.isTextual()) throw new FormatException(file, name + ".dtype", "missing or not a string: " + dt);
            DType dtype;
            try {
                dtype = DType.fromSafetensors(dt.textValue());
            } catch (IllegalArgumentException ex) {
                throw new FormatException(file, name + ".dtype", ex.getMessage());
            }
            long[] shape = longs(file, name + ".shape", v.get("shape"), -1);
            long[] offs = longs(file, name + ".data_offsets", v.get("data_offsets"), 2);
            long bytes;
            try {
                bytes = Math.multiplyExact(Tensor.elementCount(name, shape), dtype.size());
            } catch (IllegalArgumentException | ArithmeticException ex) {
                throw new FormatException(file, name + ".shape", "shape " + Arrays.toString(shape) + " is too large");
            }
            if (offs[1] < offs[0]) throw new FormatException(file, name + ".data_offsets", "end " + offs[1] + " is before begin " + offs[0]);
            if (offs[1] - offs[0] != bytes) {
                throw new FormatException(file, name + ".data_offsets", "size mismatch: shape " + Arrays.toString(shape) + " x " + dtype.size()
                        + " bytes = " + bytes + " but data_offsets " + Arrays.toString(offs) + " span " + (offs[1] - offs[0]));
            }
            spans.add(new Span(name, dtype, shape, offs[0], offs[1]));
        }
        long dataStart = 8 + n;
        long dataLen = size - dataStart;
        spans.sort((a, b) -> a.begin != b.begin ? Long.compare(a.begin, b.begin) : Long.compare(a.end, b.end));
        long expect = 0;
        for (Span s : spans) {
            if (s.begin != expect) {
                throw new FormatException(file, s.name + ".data_offsets", (s.begin < expect ? "overlaps the previous tensor" : "leaves a gap")
                        + ": begins at " + s.begin + " but the previous tensor ends at " + expect);
            }
            expect = s.end;
        }
        if (expect != dataLen) {
            throw new FormatException(file, "data", "tensors cover " + expect + " bytes but the data region has " + dataLen
                    + (dataLen > expect ? " (trailing bytes)" : " (truncated)"));
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (Span s : spans) tensors.put(s.name, new Tensor(s.name, s.dtype, s.shape, seg.asSlice(dataStart + s.begin, s.end - s.begin)));
        return new SafetensorsFile(file, tensors, metadata, owned);
    }

    private static long[] longs(Path file, String field, JsonNode node, int exactLen) throws FormatException {
        if (node == null || !node.isArray()) throw new FormatException(file, field, "missing or not an array: " + node);
        if (exactLen >= 0 && node.size() != exactLen) throw new FormatException(file, field, "expected " + exactLen + " integers but got " + node);
        if (node.size() > 64) throw new FormatException(file, field, "more than 64 entries");
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode x = node.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToLong() || x.longValue() < 0) {
                throw new FormatException(file, field, "entry " + x + " is not a non-negative 64-bit integer");
            }
            out[i] = x.longValue();
        }
        return out;
    }

    /**
     * Writes {@code tensors} (in list order) and {@code metadata} atomically. The header is padded
     * with spaces to a multiple of 8 bytes, as the reference implementation does.
     */
    public static void write(Path file, List<Tensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        Set<String> seen = new HashSet<>();
        long off = 0;
        for (Tensor t : tensors) {
            if (t.name().equals("__metadata__") || !seen.add(t.name())) {
                throw new IllegalArgumentException(file + ": duplicate or reserved tensor name '" + t.name() + "'");
            }
            ObjectNode e = root.putObject(t.name());
            e.put("dtype", t.dtype().name());
            ArrayNode shape = e.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            long end = off + t.data().byteSize();
            e.putArray("data_offsets").add(off).add(end);
            off = end;
        }
        byte[] json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();
        AtomicFiles.write(file, ch -> {
            NpyWriter.writeFully(ch, head);
            for (Tensor t : tensors) NpyWriter.writeSegment(ch, t.data());
        });
    }
}
