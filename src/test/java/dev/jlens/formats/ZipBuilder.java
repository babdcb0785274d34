package dev.jlens.formats;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Test-only zip writer that lays out bytes the way Python's zipfile does for np.savez (optionally
 * with ZIP64 extras and records), with knobs to corrupt each field. A member's zero tail is
 * created with setLength so multi-GB members cost no disk.
 */
final class ZipBuilder {
    static final class Member {
        String name;
        byte[] payload;
        long zeroTail;
        int method;
        int flags;
        boolean zip64;
        Long centralSize;
        Long centralCompressedSize;
        Long centralLocalOffset;
        String localName;
        int localSig = Npz.SIG_LOCAL;
        int centralSig = Npz.SIG_CENTRAL;

        Member(String name, byte[] payload) {
            this.name = name;
            this.payload = payload;
        }

        long size() {
            return payload.length + zeroTail;
        }
    }

    final List<Member> members = new ArrayList<>();
    boolean zip64Eocd;
    int eocdSig = Npz.SIG_EOCD;
    Long eocdEntries;

    Member add(String name, byte[] payload) {
        Member m = new Member(name, payload);
        members.add(m);
        return m;
    }

    void write(Path path) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
            raf.setLength(0);
            long[] offsets = new long[members.size()];
            for (int i = 0; i < members.size(); i++) {
                Member m = members.get(i);
                offsets[i] = raf.getFilePointer();
                byte[] name = (m.localName != null ? m.localName : m.name).getBytes(StandardCharsets.UTF_8);
                int extra = m.zip64 ? 20 : 0;
                ByteBuffer b = le(30 + name.length + extra);
                b.putInt(m.localSig).putShort((short) 45).putShort((short) m.flags).putShort((short) m.method)
                        .putShort((short) 0).putShort((short) 0x21).putInt(0);
                if (m.zip64) b.putInt(-1).putInt(-1); else b.putInt((int) m.size()).putInt((int) m.size());
                b.putShort((short) name.length).putShort((short) extra).put(name);
                if (m.zip64) b.putShort((short) 1).putShort((short) 16).putLong(m.size()).putLong(m.size());
                raf.write(b.array());
                raf.write(m.payload);
                if (m.zeroTail > 0) {
                    raf.setLength(raf.getFilePointer() + m.zeroTail);
                    raf.seek(raf.length());
                }
            }
            long cdStart = raf.getFilePointer();
            for (int i = 0; i < members.size(); i++) {
                Member m = members.get(i);
                byte[] name = m.name.getBytes(StandardCharsets.UTF_8);
                long usize = m.centralSize != null ? m.centralSize : m.size();
                long csize = m.centralCompressedSize != null ? m.centralCompressedSize : usize;
                long lho = m.centralLocalOffset != null ? m.centralLocalOffset : offsets[i];
                int extra = m.zip64 ? 28 : 0;
                ByteBuffer b = le(46 + name.length + extra);
                b.putInt(m.centralSig).putShort((short) 45).putShort((short) 45).putShort((short) m.flags).putShort((short) m.method)
                        .putShort((short) 0).putShort((short) 0x21).putInt(0);
                if (m.zip64) b.putInt(-1).putInt(-1); else b.putInt((int) csize).putInt((int) usize);
                b.putShort((short) name.length).putShort((short) extra).putShort((short) 0).putShort((short) 0)
                        .putShort((short) 0).putInt(0);
                b.putInt(m.zip64 ? -1 : (int) lho).put(name);
                if (m.zip64) b.putShort((short) 1).putShort((short) 24).putLong(usize).putLong(csize).putLong(lho);
                raf.write(b.array());
            }
            long cdEnd = raf.getFilePointer();
            long entries = eocdEntries != null ? eocdEntries : members.size();
            if (zip64Eocd) {
                ByteBuffer z = le(56 + 20);
                z.putInt(Npz.SIG_ZIP64_EOCD).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                        .putLong(entries).putLong(entries).putLong(cdEnd - cdStart).putLong(cdStart);
                z.putInt(Npz.SIG_ZIP64_LOCATOR).putInt(0).putLong(cdEnd).putInt(1);
                raf.write(z.array());
            }
            ByteBuffer e = le(22);
            e.putInt(eocdSig).putShort((short) 0).putShort((short) 0);
            if (zip64Eocd) e.putShort((short) -1).putShort((short) -1).putInt(-1).putInt(-1);
            else e.putShort((short) entries).putShort((short) entries).putInt((int) (cdEnd - cdStart)).putInt((int) cdStart);
            e.putShort((short) 0);
            raf.write(e.array());
        }
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }
}
