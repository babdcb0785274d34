package dev.jlens.atlas.corpus;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One document of the corpus.
 *
 * @param id the global 0-based document index: for line formats the global line index (file 0's lines, then
 *           file 1's...), for whole files the file's index; a skipped document keeps its id unused
 * @param file the file it came from (absolute)
 * @param line the 1-based line in that file where it starts (1 for whole files)
 * @param text the text, possibly empty (a blank line)
 */
public record Document(long id, Path file, long line, String text) {
    public Document {
        if (id < 0) throw new IllegalArgumentException("document id must be >= 0, got " + id);
        Objects.requireNonNull(file, "file");
        if (line < 1) throw new IllegalArgumentException("line must be 1-based, got " + line);
        Objects.requireNonNull(text, "text");
    }
}
