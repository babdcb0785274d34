package dev.jlens.activations;

import dev.jlens.util.Json;
import dev.jlens.util.Progress;

import dev.jlens.api.Toys;
import dev.jlens.formats.DType;
import dev.jlens.formats.NpyWriter;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeEncoders;
import dev.jlens.sae.SparseCodes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code jlens encode}'s codes.npz is scipy's own CSR layout: an independent reader of that layout (zip members parsed
 * from their npy headers, not with the project's readers) finds exactly scipy's members, dtypes and shapes and the codes
 * a direct encode gives; where python3 has scipy, {@code scipy.sparse.load_npz} and {@code numpy.load} read the file
 * and {@code save_npz} of the loaded matrix writes the same member bytes (skipped, with the reason, elsewhere).
 */
class CodesNpzScipyLayoutTest {
    private static final int D_IN = 64, D_SAE = 256, ROWS = 37;

    @TempDir static Path dir;
    static Path codesNpz;
    static SparseCodes expected;

    @BeforeAll
    static void encode() throws Exception {
        Path npz = dir.resolve("sae/layer_5/width_256/params.npz");
        new Toys.RandomSae(D_IN, D_SAE, 11, 20, 5).writeGemmaScopeNpz(npz);
        float[] x = new float[ROWS * D_IN];
        Random r = new Random(3);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        Path acts = dir.resolve("capture/activations.npy");
        java.nio.file.Files.createDirectories(acts.getParent());
        NpyWriter.write(acts, DType.F32, new long[] {ROWS, D_IN}, MemorySegment.ofArray(x));

        EncodeJob.Metrics m = EncodeJob.run(npz.toString(), acts, dir.resolve("codes"), dev.jlens.api.EncoderKind.SCALAR, Progress.NONE);
        assertEquals(ROWS, m.rows());
        codesNpz = dir.resolve("codes/codes.npz");
        try (Sae sae = Sae.load(npz.toString()); SaeEncoder enc = SaeEncoders.create(sae, "scalar")) {
            expected = enc.encode(MemorySegment.ofArray(x), ROWS);
        }
        assertTrue(expected.nnz() > ROWS, "the toy SAE fires: nnz " + expected.nnz());
    }

    /** One npy member: numpy's descr, shape and raw little-endian data. */
    record NpyMember(String descr, long[] shape, byte[] data) {
        ByteBuffer le() { return ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN); }
    }

    private static final Pattern DESCR = Pattern.compile("'descr': '([^']+)'");
    private static final Pattern SHAPE = Pattern.compile("'shape': \\(([^)]*)\\)");

    /** Reads every member of an npz from its npy v1/v2 header, in zip order. */
    static Map<String, NpyMember> readNpz(Path file) throws IOException {
        Map<String, NpyMember> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(file.toFile())) {
            for (ZipEntry e : z.stream().toList()) {
                byte[] b = z.getInputStream(e).readAllBytes();
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                assertEquals("\u0093NUMPY", new String(b, 0, 6, StandardCharsets.ISO_8859_1), e.getName());
                int headerLen = b[6] == 1 ? Short.toUnsignedInt(bb.getShort(8)) : bb.getInt(8);
                int start = b[6] == 1 ? 10 : 12;
                String h = new String(b, start, headerLen, StandardCharsets.ISO_8859_1);
                assertTrue(h.contains("'fortran_order': False"), h);
                Matcher d = DESCR.matcher(h), s = SHAPE.matcher(h);
                assertTrue(d.find() && s.find(), h);
                long[] shape = Arrays.stream(s.group(1).split(",")).map(String::strip).filter(t -> !t.isEmpty()).mapToLong(Long::parseLong).toArray();
                assertTrue(e.getName().endsWith(".npy"), e.getName());
                out.put(e.getName().substring(0, e.getName().length() - 4), new NpyMember(d.group(1), shape, Arrays.copyOfRange(b, start + headerLen, b.length)));
            }
        }
        return out;
    }

    @Test
    void codesNpzIsScipyCsrAsAJavaReaderOfThatLayoutSeesIt() throws IOException {
        Map<String, NpyMember> z = readNpz(codesNpz);
        assertEquals(List.of("indices", "indptr", "format", "shape", "data"), List.copyOf(z.keySet()), "save_npz's members and order");
        NpyMember format = z.get("format");
        assertEquals("|S3", format.descr());
        assertArrayEquals(new long[0], format.shape(), "format is a 0-d array");
        assertEquals("csr", new String(format.data(), StandardCharsets.US_ASCII));
        assertEquals("<i8", z.get("shape").descr());
        assertArrayEquals(new long[] {ROWS, D_SAE}, new long[] {z.get("shape").le().getLong(0), z.get("shape").le().getLong(8)});
        int nnz = (int) expected.nnz();
        assertEquals("<i4", z.get("indptr").descr());
        assertArrayEquals(new long[] {ROWS + 1}, z.get("indptr").shape());
        assertEquals("<i4", z.get("indices").descr());
        assertArrayEquals(new long[] {nnz}, z.get("indices").shape());
        assertEquals("<f4", z.get("data").descr());
        assertArrayEquals(new long[] {nnz}, z.get("data").shape());

        ByteBuffer ptr = z.get("indptr").le(), idx = z.get("indices").le(), val = z.get("data").le();
        assertEquals(0, ptr.getInt(0));
        for (int t = 0; t < ROWS; t++) {
            int a = ptr.getInt(4 * t), b = ptr.getInt(4 * (t + 1));
            int[] gotIdx = new int[b - a];
            float[] gotVal = new float[b - a];
            for (int k = a; k < b; k++) { gotIdx[k - a] = idx.getInt(4 * k); gotVal[k - a] = val.getFloat(4 * k); }
            assertArrayEquals(expected.indices(t), gotIdx, "row " + t + " indices");
            assertArrayEquals(expected.values(t), gotVal, "row " + t + " values");
            for (int k = 1; k < gotIdx.length; k++) assertTrue(gotIdx[k] > gotIdx[k - 1], "row " + t + ": sorted indices (scipy's has_sorted_indices)");
        }
        assertEquals(nnz, ptr.getInt(4 * ROWS));
    }

    @Test
    void scipyLoadNpzAndNumpyReadCodesNpzAndSaveNpzWritesTheSameMembers() throws Exception {
        String script = """
                import sys, json, numpy as np, scipy.sparse as sp
                m = sp.load_npz(sys.argv[1])
                z = np.load(sys.argv[1])
                assert z['format'].item() == b'csr' and z['format'].shape == () and z['format'].dtype == np.dtype('S3'), z['format']
                m2 = np.load(sys.argv[1])
                d = sp.csr_matrix((m2['data'], m2['indices'], m2['indptr']), shape=tuple(m2['shape']))
                assert (d != m).nnz == 0
                sp.save_npz(sys.argv[2], m, compressed=False)
                print(json.dumps({"format": m.format, "shape": list(m.shape), "nnz": int(m.nnz), "dtype": str(m.dtype),
                    "indptr": m.indptr.tolist(), "indices": m.indices.tolist(), "data": m.data.tolist(),
                    "sorted": bool(m.has_sorted_indices), "sum": float(m.sum(dtype=np.float64))}))
                """;
        Path resaved = dir.resolve("scipy-resaved.npz");
        var j = dev.jlens.formats.PythonScipy.run(script, codesNpz.toString(), resaved.toString());
        assertEquals("csr", j.get("format").asText());
        assertEquals(ROWS, j.get("shape").get(0).asInt());
        assertEquals(D_SAE, j.get("shape").get(1).asInt());
        assertEquals(expected.nnz(), j.get("nnz").asLong());
        assertEquals("float32", j.get("dtype").asText());
        assertTrue(j.get("sorted").asBoolean());
        double sum = 0;
        int k = 0;
        for (int t = 0; t < ROWS; t++) {
            assertEquals(k, j.get("indptr").get(t).asInt(), "indptr[" + t + "]");
            int[] ii = expected.indices(t);
            float[] vv = expected.values(t);
            for (int q = 0; q < ii.length; q++, k++) {
                assertEquals(ii[q], j.get("indices").get(k).asInt(), "indices[" + k + "]");
                assertEquals(vv[q], (float) j.get("data").get(k).asDouble(), "data[" + k + "] exactly");
                sum += vv[q];
            }
        }
        assertEquals(sum, j.get("sum").asDouble(), 1e-9 * Math.max(1, Math.abs(sum)));

        // scipy's own save_npz of the loaded matrix: the same members, byte for byte (zip timestamps aside)
        Map<String, NpyMember> ours = readNpz(codesNpz), theirs = readNpz(resaved);
        assertEquals(List.copyOf(theirs.keySet()), List.copyOf(ours.keySet()));
        try (ZipFile a = new ZipFile(codesNpz.toFile()); ZipFile b = new ZipFile(resaved.toFile())) {
            for (String name : theirs.keySet()) {
                assertArrayEquals(b.getInputStream(b.getEntry(name + ".npy")).readAllBytes(),
                        a.getInputStream(a.getEntry(name + ".npy")).readAllBytes(), name + ".npy differs from scipy's");
            }
        }
        System.out.println("[codes.npz] scipy " + j.get("shape") + " nnz=" + j.get("nnz") + ": load_npz, np.load and save_npz member bytes agree");
    }
}
