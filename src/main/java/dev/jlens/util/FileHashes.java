package dev.jlens.util;

import dev.jlens.formats.AtomicFiles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 of files and strings, for run keys. A multi-GB model is hashed once: the digest is remembered
 * in the cache folder under (absolute path, size, modification time), so a changed file is re-hashed.
 */
public final class FileHashes {
    private FileHashes() {}

    public static String sha256(Path file, Path cacheDir) throws IOException {
        Path abs = file.toAbsolutePath().normalize();
        BasicFileAttributes a = Files.readAttributes(abs, BasicFileAttributes.class);
        String key = sha256(abs + "\n" + a.size() + "\n" + a.lastModifiedTime().toMillis());
        Path memo = cacheDir == null ? null : cacheDir.resolve("hashes").resolve(key.substring(0, 32));
        if (memo != null && Files.isRegularFile(memo)) {
            String s = Files.readString(memo).strip();
            if (s.matches("[0-9a-f]{64}")) return s;
        }
        String h = sha256(file);
        if (memo != null) AtomicFiles.writeString(memo, h + "\n");
        return h;
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest md = digest();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static String sha256(String s) {
        return HexFormat.of().formatHex(digest().digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    public static String sha256(byte[] b) {
        return HexFormat.of().formatHex(digest().digest(b));
    }

    static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The content hash of an SAE source: the file's SHA-256, or for a folder (SAELens) the SHA-256 of its regular
     * files' "name=sha256" lines in path order. The France study and the atlas both key SAEs by it.
     */
    public static String ofSource(Path src, Path cacheDir) throws IOException {
        if (Files.isDirectory(src)) {
            StringBuilder b = new StringBuilder();
            try (java.util.stream.Stream<Path> files = Files.list(src)) {
                for (Path p : files.sorted().toList()) if (Files.isRegularFile(p)) b.append(p.getFileName()).append('=').append(sha256(p, cacheDir)).append('\n');
            }
            return sha256(b.toString());
        }
        return sha256(src, cacheDir);
    }
}
