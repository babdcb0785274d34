package dev.jlens.formats;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads numpy {@code .npz} archives by parsing the zip structure directly (EOCD, ZIP64 locator and
 * record, central directory, local headers) and mapping every STORED member as an npy view. Nothing
 * is inflated or copied: Gemma Scope's 262k-width params.npz is 4.8 GB.
 */
public final class Npz {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static final int SIG_LOCAL = 0x04034b50;
    static final int SIG_CENTRAL = 0x02014b50;
    static final int SIG_EOCD = 0x06054b50;
    static final int SIG_ZIP64_EOCD = 0x06064b50;
    static final int SIG_ZIP64_LOCATOR = 0x07064b50;
    private static final int EOCD_SIZE = 22;
    private static final int CENTRAL_SIZE = 46;
    private static final int LOCAL_SIZE = 30;
    private static final long MAGIC32 = 0xFFFFFFFFL;

    private Npz() {}

    /** Opens {@code file} with mappings owned by {@code arena}; closing the result leaves the arena alone. Fortran-order members are refused. */
    public static NpzFile open(Path file, Arena arena) throws IOException {
        return open(file, arena, Npy.Order.C_ONLY);
    }

    /** As {@link #open(Path, Arena)}, taking the member memory orders {@code order} allows (see {@link Npy.Order}). */
    public static NpzFile open(Path file, Arena arena, Npy.Order order) throws IOException {
        return new NpzFile(file, parse(file, Npy.map(file, arena), order), null);
    }

    /** Opens {@code file} with its own shared arena, closed (unmapping everything) by {@link NpzFile#close()}. */
    public static NpzFile open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            return new NpzFile(file, parse(file, Npy.map(file, arena), Npy.Order.C_ONLY), arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private record Entry(String name, long localOffset, long size, int method, int flags) {}

    static Map<String, Tensor> parse(Path file, MemorySegment seg, Npy.Order order) throws FormatException {
        long size = seg.byteSize();
        if (size < EOCD_SIZE) throw new FormatException(file, "end of central directory", "not a zip file: only " + size + " bytes");
        long eocd = -1;
        // the EOCD is followed only by its comment (at most 65535 bytes); scan back for a consistent one
        for (long p = size - EOCD_SIZE; p >= Math.max(0, size - EOCD_SIZE - 0xFFFF); p--) {
            if (seg.get(U32, p) == SIG_EOCD && p + EOCD_SIZE + u16(seg, p + 20) == size) {
                eocd = p;
                break;
            }
        }
        if (eocd < 0) throw new FormatException(file, "end of central directory", "not a zip file: no end-of-central-directory signature 0x06054b50");
        int disk = u16(seg, eocd + 4);
        int cdDisk = u16(seg, eocd + 6);
        long entriesOnDisk = u16(seg, eocd + 8);
        long entries = u16(seg, eocd + 10);
        long cdSize = u32(seg, eocd + 12);
        long cdOffset = u32(seg, eocd + 16);
        long cdLimit = eocd;

        if (eocd >= 20 && seg.get(U32, eocd - 20) == SIG_ZIP64_LOCATOR) {
            long loc = eocd - 20;
            long z64 = seg.get(U64, loc + 8);
            if (seg.get(U32, loc + 4) != 0 || seg.get(U32, loc + 16) != 1) {
                throw new FormatException(file, "zip64 locator", "multi-disk archives are not supported");
            }
            if (z64 < 0 || z64 > loc - 56) {
                throw new FormatException(file, "zip64 locator", "zip64 end-of-central-directory offset " + z64 + " lies outside the file");
            }
            if (seg.get(U32, z64) != SIG_ZIP64_EOCD) {
                throw new FormatException(file, "zip64 end of central directory", "bad signature 0x" + Integer.toHexString(seg.get(U32, z64)) + " at offset " + z64);
            }
            disk = seg.get(U32, z64 + 16);
            cdDisk = seg.get(U32, z64 + 20);
            entriesOnDisk = seg.get(U64, z64 + 24);
            entries = seg.get(U64, z64 + 32);
            cdSize = seg.get(U64, z64 + 40);
            cdOffset = seg.get(U64, z64 + 48);
            cdLimit = z64;
        } else if (entries == 0xFFFF || cdSize == MAGIC32 || cdOffset == MAGIC32) {
            throw new FormatException(file, "zip64 locator", "end of central directory defers to zip64 but no zip64 locator precedes it");
        }
        if (disk != 0 || cdDisk != 0 || entriesOnDisk != entries) {
            throw new FormatException(file, "end of central directory", "multi-disk archives are not supported");
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > cdLimit || cdSize > cdLimit - cdOffset) {
            throw new FormatException(file, "central directory", "offset " + cdOffset + " + size " + cdSize + " lies outside the file (" + size + " bytes)");
        }
        // each entry needs at least 46 bytes, so this bounds the allocation below by the file size
        if (entries < 0 || entries > cdSize / CENTRAL_SIZE) {
            throw new FormatException(file, "central directory", entries + " entries cannot fit in " + cdSize + " bytes");
        }

        // no presized list: the count is only bounded by the file size, not by what is sensible to allocate
        List<Entry> list = new ArrayList<>();
        Set<String> names = new HashSet<>();
        long p = cdOffset;
        long cdEnd = cdOffset + cdSize;
        for (long i = 0; i < entries; i++) {
            if (p + CENTRAL_SIZE > cdEnd) throw new FormatException(file, "central directory", "entry " + i + " runs past the directory end");
            if (seg.get(U32, p) != SIG_CENTRAL) {
                throw new FormatException(file, "central directory", "bad signature 0x" + Integer.toHexString(seg.get(U32, p)) + " for entry " + i + " at offset " + p);
            }
            int flags = u16(seg, p + 8);
            int method = u16(seg, p + 10);
            long csize = u32(seg, p + 20);
            long usize = u32(seg, p + 24);
            int nameLen = u16(seg, p + 28);
            int extraLen = u16(seg, p + 30);
            int commentLen = u16(seg, p + 32);
            int startDisk = u16(seg, p + 34);
            long lho = u32(seg, p + 42);
            long var = p + CENTRAL_SIZE;
            if (var + nameLen + extraLen + commentLen > cdEnd) {
                throw new FormatException(file, "central directory", "entry " + i + " name/extra/comment run past the directory end");
            }
            String name = new String(seg.asSlice(var, nameLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            // ZIP64 extended information: only the fields whose 32/16-bit slot is saturated, in this order
            long e = var + nameLen;
            long eEnd = e + extraLen;
            while (e + 4 <= eEnd) {
                int id = u16(seg, e);
                int len = u16(seg, e + 2);
                if (e + 4 + len > eEnd) throw new FormatException(file, name, "extra field 0x" + Integer.toHexString(id) + " runs past its entry");
                if (id == 0x0001) {
                    long q = e + 4;
                    long qEnd = q + len;
                    if (usize == MAGIC32) { usize = need8(file, name, seg, q, qEnd); q += 8; }
                    if (csize == MAGIC32) { csize = need8(file, name, seg, q, qEnd); q += 8; }
                    if (lho == MAGIC32) { lho = need8(file, name, seg, q, qEnd); q += 8; }
                    if (startDisk == 0xFFFF) { if (q + 4 > qEnd) throw new FormatException(file, name, "zip64 extra field too short"); startDisk = seg.get(U32, q); }
                }
                e += 4 + len;
            }
            if (startDisk != 0) throw new FormatException(file, name, "multi-disk archives are not supported");
            if (!names.add(name)) throw new FormatException(file, name, "duplicate member name");
            if ((flags & 0x41) != 0) throw new FormatException(file, name, "encrypted member (flags 0x" + Integer.toHexString(flags) + ") is not supported");
            if (method == 8) {
                throw new FormatException(file, name, "member is DEFLATED (np.savez_compressed); members must be stored to be memory-mapped: "
                        + "re-save with np.savez(path, **dict(np.load(path)))");
            }
            if (method != 0) throw new FormatException(file, name, "unsupported compression method " + method + "; only STORED (0) members can be mapped");
            if (csize != usize) throw new FormatException(file, name, "stored member has compressed size " + csize + " != uncompressed size " + usize);
            if (usize < 0 || usize > size) throw new FormatException(file, name, "declared size " + usize + " is larger than the file (" + size + " bytes)");
            if (lho < 0 || lho > cdOffset) throw new FormatException(file, name, "local header offset " + lho + " lies outside the member area (central directory at " + cdOffset + ")");
            list.add(new Entry(name, lho, usize, method, flags));
            p = var + nameLen + extraLen + commentLen;
        }
        if (p != cdEnd) throw new FormatException(file, "central directory", "directory size " + cdSize + " does not match its " + entries + " entries");

        // resolve data offsets and check that members neither overlap nor run into the directory
        long[] dataOff = new long[list.size()];
        for (int i = 0; i < list.size(); i++) {
            Entry en = list.get(i);
            long lho = en.localOffset;
            if (lho + LOCAL_SIZE > cdOffset) throw new FormatException(file, en.name, "local header at " + lho + " runs into the central directory");
            if (seg.get(U32, lho) != SIG_LOCAL) {
                throw new FormatException(file, en.name, "bad local header signature 0x" + Integer.toHexString(seg.get(U32, lho)) + " at offset " + lho);
            }
            int ln = u16(seg, lho + 26);
            int le = u16(seg, lho + 28);
            long data = lho + LOCAL_SIZE + ln + le;
            if (data > cdOffset || en.size > cdOffset - data) {
                throw new FormatException(file, en.name, "data at offset " + data + " + size " + en.size + " runs past the member area (central directory at " + cdOffset + ")");
            }
            String localName = new String(seg.asSlice(lho + LOCAL_SIZE, ln).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            if (!localName.equals(en.name)) throw new FormatException(file, en.name, "local header names '" + localName + "'");
            dataOff[i] = data;
        }
        Integer[] byOffset = new Integer[list.size()];
        for (int i = 0; i < byOffset.length; i++) byOffset[i] = i;
        java.util.Arrays.sort(byOffset, Comparator.comparingLong(i -> list.get(i).localOffset));
        for (int k = 1; k < byOffset.length; k++) {
            int prev = byOffset[k - 1];
            int cur = byOffset[k];
            if (list.get(cur).localOffset < dataOff[prev] + list.get(prev).size) {
                throw new FormatException(file, list.get(cur).name, "overlaps member '" + list.get(prev).name + "'");
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < list.size(); i++) {
            Entry en = list.get(i);
            String key = en.name.endsWith(".npy") ? en.name.substring(0, en.name.length() - 4) : en.name;
            if (out.containsKey(key)) throw new FormatException(file, en.name, "duplicate member name '" + key + "'");
            out.put(key, Npy.parse(file, key, en.name + ":", seg.asSlice(dataOff[i], en.size), order));
        }
        return out;
    }

    private static long need8(Path file, String name, MemorySegment seg, long q, long qEnd) throws FormatException {
        if (q + 8 > qEnd) throw new FormatException(file, name, "zip64 extra field too short");
        long v = seg.get(U64, q);
        if (v < 0) throw new FormatException(file, name, "zip64 value " + Long.toUnsignedString(v) + " is out of range");
        return v;
    }

    private static int u16(MemorySegment seg, long off) {
        return seg.get(U16, off) & 0xFFFF;
    }

    private static long u32(MemorySegment seg, long off) {
        return seg.get(U32, off) & 0xFFFFFFFFL;
    }
}
