package dev.jlens.cli;

import dev.jlens.api.ModelInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Checks of the files a command line names, made before any work starts (nothing read at length, nothing written):
 * an output folder that is a file, an input that is a folder or a FIFO, a prompt file that is not strict JSON, a layer
 * the model does not have. Each failure is bad input (exit 2) naming the option and the path.
 */
final class Checks {
    private Checks() {}

    /**
     * An output folder: absent (it will be created) or a folder; the nearest existing parent must be a folder too.
     *
     * @param option the option's name, for the message
     * @param dir    the folder, or null when the option was not given
     */
    static void outputFolder(String option, Path dir) {
        if (dir == null) return;
        for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent()) {
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.exists(p)) continue;
            if (!Files.isDirectory(p)) {
                throw new IllegalArgumentException(option + " " + dir + ": " + (p.equals(dir.toAbsolutePath()) ? "" : p + " ")
                        + "exists and is not a folder (" + kind(p) + "); give a folder path");
            }
            return;
        }
    }

    /**
     * An input file: it exists and is a regular file (not a folder, FIFO, socket or device, which would be read
     * forever or fail later with a confusing message).
     */
    static void regularFile(String option, Path file) throws IOException {
        if (file == null) return;
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, option + ": does not exist");
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(option + " " + file + (Files.isDirectory(file) ? ": is a folder, not a file"
                    : ": is not a regular file (" + kind(file) + ")"));
        }
    }

    /**
     * A prompt file: a regular file; a {@code .jsonl} one is also checked as strict JSON, line by line (a duplicate key
     * or a lone UTF-16 surrogate escape such as {@code "\ud800"} is an error naming the file, line and key).
     */
    static void promptFile(String option, Path file) throws IOException {
        if (file == null) return;
        regularFile(option, file);
        if (file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".jsonl")) JsonChecks.jsonLines(file);
    }

    /**
     * A model file and a layer: the file is a regular file, and when its pure-Java header check passes, the layer is one
     * it has. A header the check refuses is left to the command (it reports it with the full validation).
     */
    static void modelLayer(String option, Path model, int layer) throws IOException {
        if (model == null) return;
        regularFile(option, model);
        int layers;
        try {
            layers = ModelInfo.read(model).layers();
        } catch (IOException | RuntimeException e) {
            if (layer < 0) throw new IllegalArgumentException("--layer " + layer + " is out of range: layers are numbered from 0");
            return; // the command's own model loading reports it, with file, field and value
        }
        if (layer < 0 || layer >= layers) {
            throw new IllegalArgumentException("--layer " + layer + " is out of range: " + model + " has layers 0.." + (layers - 1));
        }
    }

    /** An SAE given as a SAELens folder: its cfg.json is strict JSON (no duplicate key). Other forms are left to the loader. */
    static void saeSource(String sae) throws IOException {
        if (sae == null) return;
        Path p;
        try {
            p = Path.of(sae);
        } catch (RuntimeException e) {
            return;
        }
        Path cfg = p.resolve("cfg.json");
        if (Files.isDirectory(p) && Files.isRegularFile(cfg)) JsonChecks.strict(cfg, Files.readString(cfg), null);
    }

    /** A results.json: a regular file that reads as one; a malformed one is bad input naming the file and the field. */
    static dev.jlens.api.Experiment.Results results(Path file) throws IOException {
        regularFile("--results", file);
        JsonChecks.strict(file, Files.readString(file), null);
        try {
            return dev.jlens.api.Experiment.Results.read(file);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw JsonChecks.describe(file, e);
        }
    }

    /**
     * Writes the report of a results.json read by {@link #results}. A results.json that parses but lacks a part the
     * report needs (a null or missing object) fails inside the writer with a NullPointerException before it writes
     * anything: that is bad input naming the file and the missing field, not a crash.
     */
    static Path writeReport(Path file, dev.jlens.api.Experiment.Results r, Path dir) throws IOException {
        try {
            return r.writeReport(dir);
        } catch (NullPointerException e) {
            throw new IllegalArgumentException(file + ": " + missingField(e) + ": missing or null (every results.json jlens writes has it)", e);
        }
    }

    /** The field a NullPointerException's helpful message points at: the accessor that returned null, else the null object's type. */
    static String missingField(NullPointerException e) {
        String m = e.getMessage() == null ? "" : e.getMessage();
        java.util.regex.Matcher r = java.util.regex.Pattern.compile("the return value of \"[\\w.$]+\\.(\\w+)\\(\\)\" is null").matcher(m);
        if (r.find()) return "field '" + r.group(1) + "'";
        r = java.util.regex.Pattern.compile("Cannot invoke \"[\\w.]+\\$(\\w+)\\.\\w+\\(\\)\"").matcher(m);
        if (r.find()) return "a field of type " + r.group(1);
        if (m.matches("\\w+")) return "field '" + m + "'";
        return "a required field";
    }

    private static String kind(Path p) {
        try {
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
            if (a.isDirectory()) return "a folder";
            if (a.isRegularFile()) return "a file";
            if (a.isOther()) return "a FIFO, socket or device";
            return "not a regular file";
        } catch (IOException e) {
            return "unreadable";
        }
    }
}
