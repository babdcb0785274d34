package dev.jlens.sae;

import dev.jlens.formats.FormatException;
import dev.jlens.formats.GgufFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Which model a GGUF holds, from its {@code general.*} keys (written by llama.cpp's convert_hf_to_gguf.py from the
 * Hugging Face id, e.g. {@code google/gemma-2-2b-it}: name "Gemma 2 2b It", basename "gemma-2", size_label "2B",
 * finetune "it"), to compare with an SAE's {@code model_name}. Any key may be absent (null).
 */
public record ModelIdentity(String name, String basename, String sizeLabel, String finetune) {
    private static final Pattern INSTRUCT = Pattern.compile("(?i)(.*[-_ ])?(it|instruct|chat)");

    /** Reads the general.* keys of {@code gguf} (the file's header is parsed and validated, its tensors are not read). */
    public static ModelIdentity read(Path gguf) throws IOException {
        try (GgufFile g = GgufFile.open(gguf)) {
            return new ModelIdentity(str(g, "general.name"), str(g, "general.basename"), str(g, "general.size_label"),
                    str(g, "general.finetune"));
        }
    }

    private static String str(GgufFile g, String key) throws FormatException {
        return g.has(key) && g.metadata().get(key) instanceof String ? g.getString(key) : null;
    }

    /**
     * The names this model goes by, normalised ({@link #normalise}): basename-size_label[-finetune] when the
     * basename is given, and general.name; empty when the file names neither.
     */
    public List<String> ids() {
        List<String> out = new ArrayList<>();
        if (basename != null) {
            StringBuilder b = new StringBuilder(basename);
            if (sizeLabel != null) b.append('-').append(sizeLabel);
            if (finetune != null) b.append('-').append(finetune);
            out.add(normalise(b.toString()));
        }
        if (name != null && !out.contains(normalise(name))) out.add(normalise(name));
        return out;
    }

    /** The first of {@link #ids()}, or null. */
    public String id() {
        List<String> ids = ids();
        return ids.isEmpty() ? null : ids.get(0);
    }

    /** Whether general.finetune (or the name) says instruction-tuned: "it", "instruct" or "chat". */
    public boolean instructionTuned() {
        if (finetune != null) return INSTRUCT.matcher(finetune.strip()).matches();
        String id = id();
        return id != null && INSTRUCT.matcher(id).matches();
    }

    /**
     * A model name as compared here: lower case, the organisation of a Hugging Face id dropped
     * ({@code google/gemma-2-2b} -> {@code gemma-2-2b}), runs of spaces and underscores turned into one '-'.
     */
    public static String normalise(String modelName) {
        String s = modelName.strip().toLowerCase(Locale.ROOT);
        int slash = s.lastIndexOf('/');
        if (slash >= 0) s = s.substring(slash + 1);
        return s.replaceAll("[\\s_]+", "-");
    }

    /** Whether a normalised model name names an instruction-tuned model (ends in -it, -instruct or -chat). */
    static boolean instructionTunedName(String normalised) {
        return normalised.endsWith("-it") || normalised.endsWith("-instruct") || normalised.endsWith("-chat");
    }

    /** The name without an instruction-tuned suffix. */
    static String baseName(String normalised) {
        for (String suffix : new String[] {"-it", "-instruct", "-chat"})
            if (normalised.endsWith(suffix)) return normalised.substring(0, normalised.length() - suffix.length());
        return normalised;
    }
}
