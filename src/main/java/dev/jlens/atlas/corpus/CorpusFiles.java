package dev.jlens.atlas.corpus;

import java.io.File;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Resolves a {@code --corpus} argument to the ordered list of files to read.
 *
 * <p>The argument is one entry, or several separated by {@link File#pathSeparator} (':' on Linux, as in a class
 * path); the files of each entry are listed in entry order. An entry is:
 * <ul>
 *   <li>a glob, if it contains any of {@code * ? [ {}: the leading components without wildcards name the base folder
 *       (relative to the working directory unless absolute), the rest is matched against each file's path relative to
 *       it, with '/' separators. {@code *} and {@code ?} stay within one component, {@code **} crosses components
 *       ({@code a/**}{@code /*.txt} also matches {@code a/x.txt}), {@code [abc]}, {@code [!a-c]} and {@code {x,y}}
 *       as in the shell, {@code \} escapes the next character;</li>
 *   <li>a folder: every regular file under it, recursively;</li>
 *   <li>a file: that file, hidden or not.</li>
 * </ul>
 * Under a folder or a glob's base, hidden entries (names starting with '.') are ignored, folders included, and
 * symbolic links to folders are not followed (links to files are read). Files are sorted by their path relative to
 * the folder or base, compared as strings with '/' separators. A glob or folder matching no file is an error naming
 * it; so is a file listed by two entries (it would be read twice). All returned paths are absolute and normalized.
 */
public final class CorpusFiles {
    private CorpusFiles() {}

    /** {@link #resolve(String, Path)} against the process working directory. */
    public static List<Path> resolve(String inputs) throws IOException {
        return resolve(inputs, Path.of("").toAbsolutePath());
    }

    /** The files of {@code inputs}, in reading order (see class comment); relative entries resolve against {@code workingDir}. */
    public static List<Path> resolve(String inputs, Path workingDir) throws IOException {
        List<String> entries = entries(inputs);
        Path wd = workingDir.toAbsolutePath().normalize();
        List<Path> all = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        for (String entry : entries) {
            for (Path f : resolveEntry(entry, wd)) {
                if (!seen.add(f)) {
                    throw new CorpusException(f, "--corpus", "file listed twice (again by '" + entry + "' in '" + inputs + "')");
                }
                all.add(f);
            }
        }
        return List.copyOf(all);
    }

    /**
     * Checks the argument's syntax without touching the file system: no empty entry, every glob compiles.
     * Throws IllegalArgumentException naming {@code --corpus} and the entry.
     */
    public static void checkSyntax(String inputs) {
        for (String entry : entries(inputs)) {
            if (isGlob(entry)) {
                Glob g = Glob.split(entry);
                globRegex(g.pattern, entry);
            }
        }
    }

    /** Whether an entry is a glob (contains * ? [ or {). */
    public static boolean isGlob(String entry) {
        for (int i = 0; i < entry.length(); i++) {
            char c = entry.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == '{') return true;
        }
        return false;
    }

    private static List<String> entries(String inputs) {
        if (inputs == null || inputs.isBlank()) throw new IllegalArgumentException("--corpus is empty");
        List<String> out = new ArrayList<>();
        for (String e : inputs.split(Pattern.quote(File.pathSeparator), -1)) {
            if (e.isBlank()) {
                throw new IllegalArgumentException("--corpus '" + inputs + "' has an empty entry (entries are separated by '"
                        + File.pathSeparator + "')");
            }
            out.add(e);
        }
        return out;
    }

    private static List<Path> resolveEntry(String entry, Path wd) throws IOException {
        if (isGlob(entry)) return resolveGlob(entry, wd);
        Path p = wd.resolve(entry).normalize();
        if (Files.isDirectory(p)) {
            List<Path> files = walk(p, null);
            if (files.isEmpty()) throw new CorpusException(p, "--corpus", "folder contains no (non-hidden) file");
            return files;
        }
        if (Files.isRegularFile(p)) return List.of(p);
        if (Files.exists(p)) throw new CorpusException(p, "--corpus", "neither a regular file nor a folder");
        throw new NoSuchFileException(p.toString());
    }

    private static List<Path> resolveGlob(String entry, Path wd) throws IOException {
        Glob g = Glob.split(entry);
        Pattern regex = globRegex(g.pattern, entry);
        Path base = wd.resolve(g.base).normalize();
        List<Path> files = Files.isDirectory(base) ? walk(base, regex) : List.of();
        if (files.isEmpty()) {
            throw new CorpusException(Path.of(entry), "--corpus", "glob matches no (non-hidden) file under " + base);
        }
        return files;
    }

    /** Regular non-hidden files under {@code root} (whose relative path matches {@code filter}, if given), sorted. */
    private static List<Path> walk(Path root, Pattern filter) throws IOException {
        record Found(String relative, Path path) {}
        List<Found> found = new ArrayList<>();
        // the folder named by the user is followed even if it is a link; links below it are not
        Path start = Files.isSymbolicLink(root) ? root.toRealPath() : root;
        Files.walkFileTree(start, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return !dir.equals(start) && hidden(dir) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                // attrs describe a link itself; isRegularFile follows it, so links to files count, links to folders do not
                if (hidden(file) || !Files.isRegularFile(file)) return FileVisitResult.CONTINUE;
                String rel = relative(start, file);
                if (filter == null || filter.matcher(rel).matches()) found.add(new Found(rel, root.resolve(start.relativize(file))));
                return FileVisitResult.CONTINUE;
            }
        });
        found.sort(Comparator.comparing(Found::relative));
        return found.stream().map(Found::path).toList();
    }

    private static boolean hidden(Path p) {
        Path name = p.getFileName();
        return name != null && name.toString().startsWith(".");
    }

    private static String relative(Path root, Path file) {
        StringBuilder sb = new StringBuilder();
        for (Path part : root.relativize(file)) {
            if (!sb.isEmpty()) sb.append('/');
            sb.append(part);
        }
        return sb.toString();
    }

    /** A glob entry split into the literal base folder and the pattern below it. */
    private record Glob(String base, String pattern) {
        static Glob split(String entry) {
            String[] parts = entry.split("/", -1);
            int i = 0;
            while (i < parts.length - 1 && !isGlob(parts[i]) && parts[i].indexOf('\\') < 0) i++;
            StringBuilder base = new StringBuilder();
            for (int k = 0; k < i; k++) {
                if (k > 0) base.append('/');
                base.append(parts[k]);
            }
            String b = base.toString();
            if (b.isEmpty() && entry.startsWith("/")) b = "/";
            else if (b.isEmpty()) b = ".";
            String pattern = String.join("/", java.util.Arrays.copyOfRange(parts, i, parts.length));
            return new Glob(b, pattern);
        }
    }

    /** The regular expression of a glob pattern matched against '/'-separated relative paths. */
    static Pattern globRegex(String glob, String entry) {
        StringBuilder re = new StringBuilder();
        int braces = 0;
        int n = glob.length();
        for (int i = 0; i < n; i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> {
                    if (i + 1 < n && glob.charAt(i + 1) == '*') {
                        i++;
                        boolean atStart = i - 1 == 0 || glob.charAt(i - 2) == '/';
                        if (atStart && i + 1 < n && glob.charAt(i + 1) == '/') {
                            i++;
                            re.append("(?:[^/]*/)*"); // zero or more whole folders
                        } else {
                            re.append(".*");
                        }
                    } else {
                        re.append("[^/]*");
                    }
                }
                case '?' -> re.append("[^/]");
                case '[' -> {
                    int j = i + 1;
                    StringBuilder cls = new StringBuilder("[");
                    if (j < n && (glob.charAt(j) == '!' || glob.charAt(j) == '^')) {
                        cls.append('^');
                        j++;
                    }
                    boolean first = true;
                    while (j < n && (glob.charAt(j) != ']' || first)) {
                        char d = glob.charAt(j);
                        if (d == '/') throw syntax(entry, "'/' inside [...]");
                        if (d == '\\' || d == '[' || d == '&' || d == '^' || (d == ']' && first)) cls.append('\\');
                        cls.append(d);
                        first = false;
                        j++;
                    }
                    if (j >= n) throw syntax(entry, "unterminated '['");
                    if (cls.charAt(cls.length() - 1) == '[' || cls.toString().equals("[^")) throw syntax(entry, "empty '[]'");
                    cls.append(']');
                    re.append("(?:(?!/)").append(cls).append(')');
                    i = j;
                }
                case '{' -> {
                    braces++;
                    re.append("(?:");
                }
                case '}' -> {
                    if (braces == 0) throw syntax(entry, "'}' without '{'");
                    braces--;
                    re.append(')');
                }
                case ',' -> re.append(braces > 0 ? "|" : ",");
                case '\\' -> {
                    if (i + 1 >= n) throw syntax(entry, "'\\' at the end");
                    re.append(Pattern.quote(String.valueOf(glob.charAt(++i))));
                }
                default -> {
                    if ("().+|^$".indexOf(c) >= 0) re.append('\\');
                    re.append(c);
                }
            }
        }
        if (braces != 0) throw syntax(entry, "unterminated '{'");
        try {
            return Pattern.compile(re.toString());
        } catch (PatternSyntaxException e) {
            throw syntax(entry, e.getDescription());
        }
    }

    private static IllegalArgumentException syntax(String entry, String problem) {
        return new IllegalArgumentException("--corpus: bad glob '" + entry + "': " + problem);
    }
}
