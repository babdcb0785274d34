package dev.jlens.analysis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.formats.FormatException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A list of prompts, loaded from a file or from the sets shipped with jlens.
 *
 * <p>Formats, chosen by extension:
 * <ul>
 *   <li>{@code .jsonl}: one JSON object per line, {@code {"text": "...", "facet": "..."}}; {@code text} is
 *       required and non-blank, {@code facet} is optional; any other key is rejected (catches typos such
 *       as "facte"). A blank line is rejected with its line number: in a labelled file it usually means a
 *       record was lost in editing.</li>
 *   <li>{@code .txt}: one prompt per line, no facet; blank lines are skipped and counted
 *       ({@link #skippedBlankLines()}), since trailing blank lines are common in hand-written text.</li>
 * </ul>
 * Both must be UTF-8 (decoded strictly; a bad byte is reported with line and byte offset); one leading BOM
 * and {@code \r\n} line ends are accepted; texts and facets are stripped of surrounding whitespace. A file with no prompt is rejected. Duplicate prompt texts are
 * allowed but logged as a warning and listed in {@link #duplicates()}.
 *
 * @param source where the prompts came from (file path, or {@code classpath:/...} for built-in sets)
 * @param prompts the prompts in file order
 * @param skippedBlankLines blank lines skipped (.txt only; always 0 for .jsonl)
 * @param duplicates texts that occur more than once, each listed once, in first-seen order
 */
public record PromptSet(String source, List<Prompt> prompts, int skippedBlankLines, List<String> duplicates) {
    private static final System.Logger LOG = System.getLogger(PromptSet.class.getName());
    private static final ObjectMapper JSON = dev.jlens.util.Json.MAPPER;
    private static final int MAX_LOGGED_DUPLICATES = 20;
    /** The built-in sets under {@code dev/jlens/prompts/} on the classpath. */
    public static final List<String> BUILTIN = List.of("france", "neutral", "distractor");

    /** One prompt; {@code facet} is null when the source has none. */
    public record Prompt(String text, String facet) {
        public Prompt {
            Objects.requireNonNull(text, "text");
            if (text.isBlank()) throw new IllegalArgumentException("prompt text is blank");
            if (facet != null && facet.isBlank()) throw new IllegalArgumentException("facet is blank; use null");
        }
    }

    public PromptSet {
        Objects.requireNonNull(source, "source");
        prompts = List.copyOf(prompts);
        duplicates = List.copyOf(duplicates);
        if (prompts.isEmpty()) throw new IllegalArgumentException(source + ": no prompts");
    }

    public int size() { return prompts.size(); }

    /** Loads a {@code .jsonl} or {@code .txt} file (see class comment). */
    public static PromptSet load(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        String name = file.getFileName() == null ? "" : file.getFileName().toString();
        boolean jsonl;
        if (name.endsWith(".jsonl")) jsonl = true;
        else if (name.endsWith(".txt")) jsonl = false;
        else throw new FormatException(file, "extension", "expected .jsonl or .txt, got '" + name + "'");
        return parse(file, Files.readAllBytes(file), jsonl);
    }

    /** Loads a set shipped with jlens: one of {@link #BUILTIN}. */
    public static PromptSet builtin(String name) throws IOException {
        if (!BUILTIN.contains(name)) {
            throw new IllegalArgumentException("unknown built-in prompt set '" + name + "'; known: " + BUILTIN);
        }
        String resource = "/dev/jlens/prompts/" + name + ".jsonl";
        try (InputStream in = PromptSet.class.getResourceAsStream(resource)) {
            if (in == null) throw new IOException("built-in prompt set missing from classpath: " + resource);
            return parse(Path.of("classpath:" + resource), in.readAllBytes(), true);
        }
    }

    static PromptSet parse(Path file, byte[] bytes, boolean jsonl) throws IOException {
        List<Prompt> prompts = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        // a set, not a list: contains() per line on a list made many distinct duplicates quadratic
        Set<String> duplicates = new LinkedHashSet<>();
        int skipped = 0;
        int start = 0;
        if (bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF) {
            start = 3;
        }
        int lineNo = 0;
        // '\n' never occurs inside a multi-byte UTF-8 sequence, so splitting bytes first is safe
        while (start < bytes.length) {
            int end = start;
            while (end < bytes.length && bytes[end] != '\n') end++;
            lineNo++;
            int contentEnd = end > start && bytes[end - 1] == '\r' ? end - 1 : end;
            String line = decodeLine(file, bytes, start, contentEnd, lineNo);
            start = end + 1;
            if (line.isBlank()) {
                if (jsonl) throw new FormatException(file, "line " + lineNo, "blank line in a .jsonl prompt file");
                skipped++;
                continue;
            }
            Prompt p = jsonl ? parseJsonLine(file, line, lineNo) : new Prompt(line.strip(), null);
            Integer first = seen.putIfAbsent(p.text(), lineNo);
            // the first few are logged one by one; a record per duplicate made a large file log-bound
            if (first != null && duplicates.add(p.text()) && duplicates.size() <= MAX_LOGGED_DUPLICATES) {
                LOG.log(System.Logger.Level.WARNING, "{0}: line {1} repeats the prompt of line {2}: \"{3}\"",
                        file, lineNo, first, p.text());
            }
            prompts.add(p);
        }
        if (prompts.isEmpty()) {
            throw new FormatException(file, "prompts", bytes.length == 0 ? "file is empty" : "file has no prompt, only blank lines");
        }
        if (duplicates.size() > MAX_LOGGED_DUPLICATES) {
            LOG.log(System.Logger.Level.WARNING, "{0}: {1} distinct prompts are repeated ({2} more than logged above); see duplicates()",
                    file, duplicates.size(), duplicates.size() - MAX_LOGGED_DUPLICATES);
        }
        if (skipped > 0) {
            LOG.log(System.Logger.Level.INFO, "{0}: skipped {1} blank line(s)", file, skipped);
        }
        return new PromptSet(file.toString(), prompts, skipped, List.copyOf(duplicates));
    }

    private static String decodeLine(Path file, byte[] bytes, int from, int to, int lineNo) throws FormatException {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes, from, to - from);
        CharBuffer out = CharBuffer.allocate(to - from);
        CoderResult r = dec.decode(in, out, true);
        if (r.isUnderflow()) r = dec.flush(out);
        if (r.isError()) {
            int offset = in.position();
            throw new FormatException(file, "line " + lineNo + ", byte offset " + offset,
                    "invalid UTF-8 (byte 0x" + String.format("%02X", bytes[offset] & 0xFF) + " at column byte "
                            + (offset - from) + ")");
        }
        return out.flip().toString();
    }

    private static Prompt parseJsonLine(Path file, String line, int lineNo) throws FormatException {
        JsonNode node;
        try {
            node = JSON.readTree(line); // strict: a key given twice is an error naming it
        } catch (JsonProcessingException e) {
            throw new FormatException(file, "line " + lineNo, "not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (!(node instanceof ObjectNode obj)) {
            throw new FormatException(file, "line " + lineNo, "expected a JSON object, got " + node.getNodeType());
        }
        for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!key.equals("text") && !key.equals("facet")) {
                throw new FormatException(file, "line " + lineNo + ", key '" + key + "'", "unknown key; allowed: text, facet");
            }
        }
        JsonNode text = obj.get("text");
        if (text == null || !text.isTextual() || text.asText().isBlank()) {
            throw new FormatException(file, "line " + lineNo + ", key 'text'", "missing, not a string, or blank: " + text);
        }
        JsonNode facet = obj.get("facet");
        String facetText = null;
        if (facet != null && !facet.isNull()) {
            if (!facet.isTextual() || facet.asText().isBlank()) {
                throw new FormatException(file, "line " + lineNo + ", key 'facet'", "not a non-blank string: " + facet);
            }
            facetText = facet.asText().strip();
        }
        for (String key : new String[] {"text", "facet"}) {
            JsonNode v = obj.get(key);
            int at = v == null || !v.isTextual() ? -1 : loneSurrogate(v.asText());
            if (at >= 0) {
                throw new FormatException(file, "line " + lineNo + ", key '" + key + "'", String.format(
                        "unpaired surrogate \\u%04X at character %d (not a character; not encodable as UTF-8)", (int) v.asText().charAt(at), at));
            }
        }
        return new Prompt(text.asText().strip(), facetText);
    }

    /** The index of the first unpaired UTF-16 surrogate in {@code s} (from an escape such as {@code "\ud800"}), or -1. */
    static int loneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) i++;
            else if (Character.isSurrogate(c)) return i;
        }
        return -1;
    }
}
