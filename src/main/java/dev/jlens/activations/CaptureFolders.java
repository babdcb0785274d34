package dev.jlens.activations;

import dev.jlens.util.FileHashes;
import dev.jlens.util.Json;

import dev.jlens.analysis.PromptSet;
import dev.jlens.formats.FormatException;
import dev.jlens.formats.Npy;
import dev.jlens.formats.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Activations brought by the user: two folders written by `jlens capture` (target and control prompts),
 * each with activations.npy, tokens.csv and capture.json. Each folder is one shard; its prompts get global
 * indices (target first). Prompt texts and facets come from the prompt files when given (they must have
 * the same number of prompts), otherwise from tokens.csv's token texts.
 */
public final class CaptureFolders implements ActivationSource {
    private final List<Path> folders;
    private final List<ShardMeta> metas;
    private final Path workDir;

    private CaptureFolders(List<Path> folders, List<ShardMeta> metas, Path workDir) {
        this.folders = folders;
        this.metas = metas;
        this.workDir = workDir;
    }

    /** Opens target and control capture folders as the input of the analysis stages. */
    public static Captured open(Path targetDir, Path controlDir, Path targetPrompts, Path controlPrompts, Path cacheDir)
            throws IOException {
        Folder t = readFolder(targetDir, 0);
        Folder c = readFolder(controlDir, t.prompts.size());
        if (t.bos != c.bos) throw new FormatException(controlDir.resolve("capture.json"), "bos_token_id", c.bos + " differs from the target's " + t.bos);
        if (t.nEmbd != c.nEmbd) throw new FormatException(controlDir.resolve("capture.json"), "n_embd", c.nEmbd + " differs from the target's " + t.nEmbd);
        Numerics numerics = numerics(targetDir.resolve("capture.json"), t.info);
        Numerics controlNumerics = numerics(controlDir.resolve("capture.json"), c.info);
        if (!java.util.Objects.equals(numerics, controlNumerics)) {
            // an f16-cache capture against an f32 one would show the cache's rounding as a target/control difference
            throw new FormatException(controlDir.resolve("capture.json"), "numerics", controlNumerics + " differs from the target's " + numerics);
        }
        List<PromptSet.Prompt> prompts = new ArrayList<>(texts(t, targetPrompts, targetDir));
        prompts.addAll(texts(c, controlPrompts, controlDir));
        String key = FileHashes.sha256(FileHashes.sha256(targetDir.resolve("activations.npy"), cacheDir) + "|"
                + FileHashes.sha256(controlDir.resolve("activations.npy"), cacheDir)).substring(0, 16);
        CaptureFolders src = new CaptureFolders(List.of(targetDir, controlDir), List.of(t.meta, c.meta), cacheDir.resolve("captures-" + key));
        Files.createDirectories(src.workDir);
        return new Captured(src, prompts, t.prompts.size(), targetDir.toString(), controlDir.toString(), t.bos,
                t.info.path("model").asText(""), t.info.path("model_sha256").asText(""), t.info.path("architecture").asText(""), t.info.path("llama_cpp_commit").asText(""), 0,
                numerics);
    }

    /** capture.json's numerics, or null for a folder written before they were recorded. */
    private static Numerics numerics(Path info, com.fasterxml.jackson.databind.JsonNode node) throws IOException {
        var n = node.path("numerics");
        if (n.isMissingNode() || n.isNull()) return null;
        try {
            return Json.FILES.treeToValue(n, Numerics.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException | IllegalArgumentException e) {
            throw new FormatException(info, "numerics", n + ": " + e.getMessage());
        }
    }

    private record Folder(ShardMeta meta, List<String> prompts, int bos, int nEmbd, com.fasterxml.jackson.databind.JsonNode info) {}

    /**
     * One `jlens capture` folder, checked (capture.json, tokens.csv in prompt and position order, activations.npy of
     * the matching shape): its rows' tokens ({@code meta.tokens()}, prompts from 0), the BOS id that marks BOS rows at
     * position 0 (-1: none) and the captured layer.
     */
    public record Contents(Path dir, ShardMeta meta, int bosRowsToken, int layer) {
        public Path activations() { return dir.resolve("activations.npy"); }
    }

    /** Reads and checks a capture folder's metadata; bad files are {@link FormatException}s naming file, field and value. */
    public static Contents read(Path dir) throws IOException {
        if (Files.isRegularFile(dir)) throw new FormatException(dir, "folder", "is a file: give the folder `jlens capture` wrote");
        Folder f = readFolder(dir, 0);
        var layer = f.info.path("layer");
        if (!layer.canConvertToInt() || layer.asInt() < 0) throw new FormatException(dir.resolve("capture.json"), "layer", String.valueOf(layer));
        return new Contents(dir, f.meta, f.bos, layer.asInt());
    }

    private static Folder readFolder(Path dir, int promptOffset) throws IOException {
        Path info = dir.resolve("capture.json"), csv = dir.resolve("tokens.csv"), npy = dir.resolve("activations.npy");
        for (Path p : List.of(info, csv, npy)) if (!Files.isRegularFile(p)) throw new FormatException(p, "file", "missing: is " + dir + " a `jlens capture` folder?");
        var node = Json.readFileTree(info, Json.CAPTURE_FORMAT); // an older camelCase capture.json: refused naming "format"
        int bos = CaptureJob.CaptureInfo.bosRowsToken(node);
        int nEmbd = node.path("n_embd").asInt(-1);
        if (nEmbd < 1) throw new FormatException(info, "n_embd", node.path("n_embd").toString());
        List<List<Integer>> tokens = new ArrayList<>();
        List<StringBuilder> texts = new ArrayList<>();
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        if (lines.isEmpty() || !lines.get(0).equals(TokensCsv.HEADER)) throw new FormatException(csv, "header", "expected " + TokensCsv.HEADER);
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",", 4);
            if (f.length < 3) throw new FormatException(csv, "line " + (i + 1), "expected 4 columns");
            int prompt, pos, tok;
            try {
                prompt = Integer.parseInt(f[0]);
                pos = Integer.parseInt(f[1]);
                tok = Integer.parseInt(f[2]);
            } catch (NumberFormatException e) {
                throw new FormatException(csv, "line " + (i + 1), "not a number: " + e.getMessage());
            }
            if (prompt == tokens.size()) { tokens.add(new ArrayList<>()); texts.add(new StringBuilder()); }
            if (prompt != tokens.size() - 1 || pos != tokens.get(prompt).size()) {
                throw new FormatException(csv, "line " + (i + 1), "rows must be in prompt and position order (prompt " + prompt + ", position " + pos + ")");
            }
            tokens.get(prompt).add(tok);
            if (!TokenizedPrompts.isBosRow(pos, tok, bos) && f.length == 4) {
                try {
                    texts.get(prompt).append(TokensCsv.text(f[3]));
                } catch (IllegalArgumentException e) {
                    throw new FormatException(csv, "line " + (i + 1), e.getMessage());
                }
            }
        }
        long rows = lines.size() - 1;
        try (Arena a = Arena.ofConfined()) {
            Tensor t = Npy.read(npy, a);
            if (t.rank() != 2 || t.dim(0) != rows || t.dim(1) != nEmbd) {
                throw new FormatException(npy, "shape", java.util.Arrays.toString(t.shape()) + " does not match tokens.csv's " + rows + " rows x n_embd " + nEmbd);
            }
        }
        List<int[]> tk = tokens.stream().map(l -> l.stream().mapToInt(Integer::intValue).toArray()).toList();
        ShardMeta meta = new ShardMeta(0, promptOffset, promptOffset + tk.size(), rows, nEmbd, "", tk);
        return new Folder(meta, texts.stream().map(s -> s.toString().strip()).toList(), bos, nEmbd, node);
    }

    private static List<PromptSet.Prompt> texts(Folder f, Path promptFile, Path dir) throws IOException {
        if (promptFile == null) return f.prompts.stream().map(s -> new PromptSet.Prompt(s.isEmpty() ? "(empty)" : s, null)).toList();
        PromptSet set = PromptSet.load(promptFile);
        if (set.size() != f.prompts.size()) {
            throw new IllegalArgumentException(promptFile + " has " + set.size() + " prompts but " + dir + " captured " + f.prompts.size());
        }
        return set.prompts();
    }

    @Override public int shards() { return folders.size(); }

    @Override public ShardMeta meta(int shard) { return metas.get(shard); }

    @Override
    public void read(int shard, ShardVisitor visitor) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            visitor.visit(metas.get(shard), Npy.read(folders.get(shard).resolve("activations.npy"), a).data());
        }
    }

    @Override public Path dir() { return workDir; }
}
