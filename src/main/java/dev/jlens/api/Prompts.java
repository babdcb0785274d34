package dev.jlens.api;

import dev.jlens.activations.InputFiles;
import dev.jlens.analysis.PromptSet;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Prompt files: the input format of {@link CaptureFolder} and of {@link Experiment}'s target and control sets. */
public final class Prompts {
    private Prompts() {}

    /**
     * The prompt texts of a file, in file order, as an immutable list: {@code .txt} (one prompt per line; blank lines
     * are skipped) or {@code .jsonl} (one object per line, {@code {"text": "...", "facet": "..."}}; {@code text} is
     * required, {@code facet} optional, any other key and any blank line are rejected). UTF-8, decoded strictly; texts
     * are stripped of surrounding whitespace. Throws an IOException naming the file, line and problem when the file is
     * malformed, empty, has another extension or is not a regular file (a folder, a FIFO) ({@link Failures#isBadInput} is true for it).
     *
     * @param file a {@code .txt} or {@code .jsonl} prompt file
     * @return the prompt texts, at least one, in file order; the {@code facet} values of a .jsonl file are not returned
     * @throws IOException naming the file when it is missing ({@link java.nio.file.NoSuchFileException}), not a regular
     *                     file or cannot be read, and also the line and problem when it is malformed or empty
     */
    public static List<String> load(Path file) throws IOException {
        InputFiles.requireRegularFile(file, "prompts"); // a folder or a FIFO: named, never read (a FIFO would block)
        return PromptSet.load(file).prompts().stream().map(PromptSet.Prompt::text).toList();
    }
}
