package dev.jlens.formats;

import dev.jlens.sae.EncoderOptions;
import dev.jlens.sae.Sae;
import dev.jlens.sae.SaeEncoder;
import dev.jlens.sae.SaeEncoders;
import dev.jlens.sae.SparseCodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A Gemma-Scope-sized 262k SAE (2304 x 262144, 4.8 GB of f32 matrices) loads, validates and encodes with the
 * heap staying small: the matrices are memory-mapped members of the npz, never copied. The matrices are sparse
 * zero regions of the file (no disk, no heap); b_enc and threshold are real data, so the expected active set is
 * known: pre = b_enc, active where b_enc > threshold.
 */
class FullSizeSaeMappingTest {
    @TempDir Path dir;

    static byte[] f32Member(long[] shape, float[] values) {
        byte[] h = NpyWriter.header(DType.F32, shape);
        ByteBuffer b = ByteBuffer.allocate(h.length + values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(h);
        for (float v : values) b.putFloat(v);
        return b.array();
    }

    @Test
    void a262kSaeIsMappedNotCopiedWhileItEncodes() throws IOException {
        int dIn = 2304, dSae = 262144;
        float[] bEnc = new float[dSae], thr = new float[dSae];
        int expected = 0;
        for (int i = 0; i < dSae; i++) {
            bEnc[i] = (i % 97 == 0) ? 0.5f : 0.01f;
            thr[i] = 0.1f;
            if (bEnc[i] > thr[i]) expected++;
        }
        ZipBuilder z = new ZipBuilder();
        ZipBuilder.Member we = z.add("W_enc.npy", NpyWriter.header(DType.F32, new long[] {dIn, dSae}));
        we.zeroTail = (long) dIn * dSae * 4;
        we.zip64 = true;
        ZipBuilder.Member wd = z.add("W_dec.npy", NpyWriter.header(DType.F32, new long[] {dSae, dIn}));
        wd.zeroTail = (long) dIn * dSae * 4;
        wd.zip64 = true;
        // members past 4 GB need ZIP64 local-header offsets, as numpy writes them
        z.add("b_enc.npy", f32Member(new long[] {dSae}, bEnc)).zip64 = true;
        z.add("b_dec.npy", f32Member(new long[] {dIn}, new float[dIn])).zip64 = true;
        z.add("threshold.npy", f32Member(new long[] {dSae}, thr)).zip64 = true;
        z.zip64Eocd = true;
        Path npz = dir.resolve("layer_12/width_262k/average_l0_121/params.npz");
        java.nio.file.Files.createDirectories(npz.getParent());
        z.write(npz);

        Runtime rt = Runtime.getRuntime();
        System.gc();
        long before = rt.totalMemory() - rt.freeMemory();
        long peak = 0;
        try (Sae sae = Sae.loadGemmaScopeNpz(npz); SaeEncoder enc = SaeEncoders.create(sae, "vector", new EncoderOptions(2, 512, 4))) {
            assertEquals(dSae, sae.dSae());
            peak = Math.max(peak, rt.totalMemory() - rt.freeMemory() - before);
            float[] x = new float[4 * dIn];
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
            SparseCodes c = enc.encode(MemorySegment.ofArray(x), 4);
            peak = Math.max(peak, rt.totalMemory() - rt.freeMemory() - before);
            for (int t = 0; t < 4; t++) {
                assertEquals(expected, c.l0(t), "token " + t);
                assertEquals(0.5f, c.values(t)[0], 1e-6f);
            }
        }
        System.out.printf("262k SAE (%.1f GB of matrices): heap growth while loaded and encoding %.1f MB%n", 2.0 * dIn * dSae * 4 / 1e9, peak / 1e6);
        assertTrue(peak < 256L << 20, "heap grew by " + peak + " bytes with 4.8 GB of weights in use");
    }
}
