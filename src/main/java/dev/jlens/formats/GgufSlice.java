package dev.jlens.formats;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Capture-only GGUFs: the first blocks of a model and everything that is not a block (tokenizer metadata, token
 * embeddings, final norm). A slice through layer L keeps blocks 0..L+1 and rewrites {@code <arch>.block_count} to
 * L+2: block L+1 is kept so that {@code l_out-L} is not the model's last layer, which llama.cpp would cut down to the
 * output rows. The residual stream after layer L is then computed by exactly the same kernels on exactly the same
 * bytes as in the full model. Tensor data is copied verbatim (any ggml type), the source's alignment is kept, and the
 * slice records what it is in {@link #THROUGH_LAYER_KEY}, {@link #SOURCE_SHA256_KEY} and {@link #SOURCE_BLOCKS_KEY}.
 */
public final class GgufSlice {
    private GgufSlice() {}

    /** UINT32: the highest layer whose output the slice reproduces (L). Its presence marks a file as a slice. */
    public static final String THROUGH_LAYER_KEY = "jlens.slice.through_layer";
    /** STRING: lower-case hex SHA-256 of the whole source file. */
    public static final String SOURCE_SHA256_KEY = "jlens.slice.source_sha256";
    /** UINT32: the source's block count. */
    public static final String SOURCE_BLOCKS_KEY = "jlens.slice.source_block_count";

    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\..+");
    /** Copied in slices of this many bytes: a ByteBuffer view cannot exceed 2 GiB (Gemma 2 2B's F32 embeddings do). */
    private static final long CHUNK = 64L << 20;

    /**
     * What {@link #write} produced.
     *
     * @param out          the slice written
     * @param throughLayer L
     * @param sourceBlocks blocks of the source
     * @param blocks       blocks of the slice (L+2)
     * @param tensors      tensors copied
     * @param sourceBytes  size of the source file
     * @param bytes        size of the slice file
     * @param sourceSha256 hex SHA-256 of the source
     */
    public record Result(Path out, int throughLayer, int sourceBlocks, int blocks, int tensors, long sourceBytes, long bytes,
                         String sourceSha256) {}

    /**
     * Writes the slice of {@code model} through layer {@code throughLayer} to {@code out} atomically. Throws
     * IllegalArgumentException when the layer is out of range (0..block_count-2) or {@code out} is the model, and
     * FormatException when the model is not a readable GGUF with a UINT32 {@code <arch>.block_count}.
     */
    public static Result write(Path model, int throughLayer, Path out) throws IOException {
        if (Files.exists(out) && Files.exists(model) && Files.isSameFile(model, out)
                || model.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("--out " + out + " is the input model; write the slice to another file");
        }
        try (GgufFile src = GgufFile.open(model)) {
            String arch = src.getString("general.architecture");
            String blockKey = arch + ".block_count";
            int sourceBlocks = src.getU32(blockKey);
            if (throughLayer < 0 || throughLayer + 1 >= sourceBlocks) {
                throw new IllegalArgumentException("--through-layer " + throughLayer + " is out of range: " + model + " has "
                        + sourceBlocks + " blocks, so a slice can end at layers 0.." + (sourceBlocks - 2)
                        + " (block L+1 must exist to keep layer L's output whole)");
            }
            int blocks = throughLayer + 2;
            String sha = sha256(src);
            GgufWriter w = new GgufWriter();
            for (Map.Entry<String, Object> e : src.metadata().entrySet()) {
                String key = e.getKey();
                if (key.startsWith("jlens.slice.")) continue; // a slice of a slice describes itself afresh
                if (key.equals(blockKey)) w.putUint32(key, blocks);
                else copy(src, key, e.getValue(), arch, sourceBlocks, blocks, w);
            }
            w.putUint32(THROUGH_LAYER_KEY, throughLayer);
            w.putString(SOURCE_SHA256_KEY, sha);
            w.putUint32(SOURCE_BLOCKS_KEY, sourceBlocks);
            int kept = 0;
            for (GgufFile.TensorInfo t : src.tensors()) {
                Matcher m = BLOCK.matcher(t.name());
                if (m.matches() && Long.parseLong(m.group(1)) >= blocks) continue;
                MemorySegment data = src.data(t);
                w.addRawTensor(t.name(), t.ne(), t.type(), sink -> {
                    for (long o = 0; o < data.byteSize(); o += CHUNK) sink.accept(data.asSlice(o, Math.min(CHUNK, data.byteSize() - o)));
                });
                kept++;
            }
            w.write(out);
            return new Result(out, throughLayer, sourceBlocks, blocks, kept, Files.size(model), Files.size(out), sha);
        }
    }

    /** L when {@code model} is a slice made by {@link #write}, else empty. Reads only the header. */
    public static OptionalInt throughLayer(Path model) throws IOException {
        try (GgufFile f = GgufFile.open(model)) {
            return f.has(THROUGH_LAYER_KEY) ? OptionalInt.of(f.getInt(THROUGH_LAYER_KEY)) : OptionalInt.empty();
        }
    }

    /**
     * Throws IllegalArgumentException naming {@code what} when {@code model} is a slice: anything that runs the model
     * past the tap (steering, generation) would run a truncated network and silently produce nonsense.
     */
    public static void refuseSlice(Path model, String what) throws IOException {
        OptionalInt l = throughLayer(model);
        if (l.isPresent()) {
            throw new IllegalArgumentException(model + " is a capture-only slice (" + THROUGH_LAYER_KEY + " = " + l.getAsInt()
                    + "): " + what + " needs the full model it was cut from");
        }
    }

    private static String sha256(GgufFile f) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (var ch = java.nio.channels.FileChannel.open(f.file())) {
            var buf = java.nio.ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) > 0 || buf.position() > 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Copies one key with its exact GGUF type; per-layer arrays (length = block count) are cut to the slice's blocks. */
    private static void copy(GgufFile src, String key, Object v, String arch, int sourceBlocks, int blocks, GgufWriter w) throws FormatException {
        GgufValueType t = src.type(key).orElseThrow();
        switch (t) {
            case UINT8 -> w.putUint8(key, (Integer) v);
            case INT8 -> w.putInt8(key, (Integer) v);
            case UINT16 -> w.putUint16(key, (Integer) v);
            case INT16 -> w.putInt16(key, (Integer) v);
            case UINT32 -> w.putUint32(key, (Long) v);
            case INT32 -> w.putInt32(key, (Integer) v);
            case FLOAT32 -> w.putFloat32(key, (Float) v);
            case BOOL -> w.putBool(key, (Boolean) v);
            case STRING -> w.putString(key, (String) v);
            case UINT64 -> w.putUint64(key, (Long) v);
            case INT64 -> w.putInt64(key, (Long) v);
            case FLOAT64 -> w.putFloat64(key, (Double) v);
            case ARRAY -> {
                GgufValueType et = src.arrayType(key).orElseThrow();
                List<?> l = (List<?>) v;
                int n = key.startsWith(arch + ".") && et != GgufValueType.STRING && l.size() == sourceBlocks ? blocks : l.size();
                w.putArray(key, GgufWriter.ValueType.valueOf(et.name()), javaArray(et, l, n));
            }
        }
    }

    private static Object javaArray(GgufValueType et, List<?> l, int n) {
        switch (et) {
            case UINT8, INT8 -> { byte[] a = new byte[n]; for (int i = 0; i < n; i++) a[i] = (byte) (int) (Integer) l.get(i); return a; }
            case UINT16, INT16 -> { short[] a = new short[n]; for (int i = 0; i < n; i++) a[i] = (short) (int) (Integer) l.get(i); return a; }
            case UINT32 -> { int[] a = new int[n]; for (int i = 0; i < n; i++) a[i] = (int) (long) (Long) l.get(i); return a; }
            case INT32 -> { int[] a = new int[n]; for (int i = 0; i < n; i++) a[i] = (Integer) l.get(i); return a; }
            case UINT64, INT64 -> { long[] a = new long[n]; for (int i = 0; i < n; i++) a[i] = (Long) l.get(i); return a; }
            case FLOAT32 -> { float[] a = new float[n]; for (int i = 0; i < n; i++) a[i] = (Float) l.get(i); return a; }
            case FLOAT64 -> { double[] a = new double[n]; for (int i = 0; i < n; i++) a[i] = (Double) l.get(i); return a; }
            case BOOL -> { boolean[] a = new boolean[n]; for (int i = 0; i < n; i++) a[i] = (Boolean) l.get(i); return a; }
            case STRING -> { String[] a = new String[n]; for (int i = 0; i < n; i++) a[i] = (String) l.get(i); return a; }
            case ARRAY -> throw new IllegalStateException("nested array");
        }
        throw new IllegalStateException(et.toString());
    }
}
