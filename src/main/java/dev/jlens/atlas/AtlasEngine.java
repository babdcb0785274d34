package dev.jlens.atlas;

import dev.jlens.atlas.browser.AtlasBrowser;
import dev.jlens.formats.AtomicFiles;
import dev.jlens.formats.GgufFile;
import dev.jlens.kernels.KernelProvider;
import dev.jlens.llama.Model;
import dev.jlens.llama.NativeLibrary;
import dev.jlens.util.FileHashes;
import dev.jlens.util.Json;
import dev.jlens.util.Progress;
import dev.jlens.util.RunFolder;
import dev.jlens.sae.Sae;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The feature atlas on one machine: the model runs once per context batch, every SAE encodes the same
 * activations, the statistics are checkpointed per shard of the corpus (so Ctrl-C or kill -9 leaves a run that
 * resumes and finishes byte-identical) together with each shard's sparse codes, the example windows are cut from
 * those codes (a shard whose codes are lost is decoded again in the same batches), the logit lens runs over the
 * unembedding, and each SAE gets its atlas folder. The Spark job runs the same {@link ShardWork} per partition and
 * the same {@link #finish} on the driver.
 */
public final class AtlasEngine {
    private static final System.Logger LOG = System.getLogger(AtlasEngine.class.getName());
    private static final int PARTIAL_MAGIC = 0x4A4C4153; // "JLAS"

    private AtlasEngine() {}

    /** What a run did. */
    public record Result(List<Path> folders, long contexts, long tokens, int shardsComputed, int shardsReused,
                         long windowContexts, List<String> encoders) {}

    /** The SAEs of a run with where each one's folder goes. */
    public record Job(Path model, List<String> saes, AtlasSettings settings, Path out) {
        public Job {
            if (saes.isEmpty()) throw new IllegalArgumentException("no SAE given");
            saes = List.copyOf(saes);
        }

        /** One SAE: the folder itself; several: one subfolder each, named after the SAE. */
        public List<Path> folders() {
            if (saes.size() == 1) return List.of(out);
            List<Path> l = new ArrayList<>();
            for (int i = 0; i < saes.size(); i++) l.add(out.resolve(String.format("sae-%d-%s", i, slug(saes.get(i)))));
            return l;
        }
    }

    static String slug(String id) {
        String s = id.replaceAll("[^A-Za-z0-9._-]+", "_");
        return s.length() > 80 ? s.substring(s.length() - 80) : s;
    }

    /**
     * Runs the atlas. {@code corpusFor} builds the corpus over the loaded model's tokenizer. Everything is
     * validated (model, SAEs, the whole corpus) before the first forward pass.
     */
    public static Result run(Job job, CorpusFactory corpusFor, Progress progress) throws IOException {
        if (Files.exists(job.out()) && !Files.isDirectory(job.out())) throw new IllegalArgumentException("--out " + job.out() + " exists and is not a directory");
        // the whole run holds the folder's lock: a second run into it is exit 2 naming it (RunFolder); the checkpoints in
        // .atlas-work stay resumable (the lock's cleanup removes only staging folders and .*.tmp files)
        try (RunFolder lock = RunFolder.lock(job.out())) {
            return runLocked(job, corpusFor, progress);
        }
    }

    private static Result runLocked(Job job, CorpusFactory corpusFor, Progress progress) throws IOException {
        AtlasSettings s = job.settings();
        try (Model model = Model.load(job.model())) {
            if (s.layer() >= model.nLayer()) throw new IllegalArgumentException("--layer " + s.layer() + ": the model has layers 0.." + (model.nLayer() - 1));
            if (model.vocab().bos() < 0) throw new IllegalArgumentException(job.model() + ": the model has no BOS token; atlas contexts start with BOS");
            List<Sae> saes = new ArrayList<>();
            Path spool = null;
            try {
                for (String id : job.saes()) {
                    Sae sae = Sae.load(id);
                    saes.add(sae);
                    sae.validateFor(model.nEmbd());
                    checkLayer(sae, id, s.layer());
                }
                // the corpus is read and tokenized once; both passes read the spooled contexts
                spool = spoolFile();
                SpooledCorpus corpus = SpooledCorpus.spool(corpusFor.open(model), spool, s);
                long nContexts = corpus.contexts(), nTokens = corpus.tokens();
                if (nContexts == 0) throw new IllegalArgumentException("the corpus has no text: " + corpus.describe().get("inputs"));
                Map<String, Object> identity = identity(job, model, saes, corpus);
                Path work = job.out().resolve(".atlas-work").resolve(FileHashes.sha256(Json.MAPPER.writeValueAsString(identity)).substring(0, 16));
                Files.createDirectories(work);
                AtomicFiles.writeString(work.resolve("key.json"), Json.MAPPER.writeValueAsString(identity) + "\n");
                try (ShardWork w = new ShardWork(model, saes, s)) {
                    List<FeatureStats> totals = new ArrayList<>();
                    for (Sae sae : saes) totals.add(new FeatureStats(sae.dSae(), s.topK(), s.sampleSize()));
                    int computed = 0, reused = 0;
                    long done = 0;
                    try (ContextSource.Pass pass = corpus.open()) {
                        int shard = 0;
                        for (List<AtlasContext> sh = nextShard(pass, s); !sh.isEmpty(); sh = nextShard(pass, s), shard++) {
                            Path file = work.resolve(String.format("shard-%06d.bin", shard));
                            List<FeatureStats> part = readPartial(file, shard, sh, saes.size());
                            if (part == null) {
                                ShardCodes.Writer spill = new ShardCodes.Writer(saes.size());
                                part = w.scan(sh, spill);
                                spill.write(codesFile(work, shard), shard); // before the partial: a partial implies its codes
                                writePartial(file, shard, sh, part);
                                computed++;
                            } else {
                                reused++;
                            }
                            for (int i = 0; i < saes.size(); i++) totals.get(i).merge(part.get(i));
                            for (AtlasContext c : sh) done += c.tokens().length;
                            progress.update("scan", done, nTokens);
                        }
                    }
                    WindowRequests req = WindowRequests.of(totals, s);
                    WindowRequests.Results windows = new WindowRequests.Results(saes.size());
                    long wantedDone = 0;
                    int redecoded = 0;
                    try (ContextSource.Pass pass = corpus.open()) {
                        int shard = 0;
                        for (List<AtlasContext> sh = nextShard(pass, s); !sh.isEmpty(); sh = nextShard(pass, s), shard++) {
                            WindowRequests.Results r = ShardCodes.windows(codesFile(work, shard), shard, sh, req, s);
                            if (r == null) {
                                r = w.windows(sh, req); // codes lost or damaged: decode the shard's batches again
                                redecoded++;
                            }
                            windows.putAll(r);
                            for (AtlasContext c : sh) wantedDone += c.tokens().length;
                            progress.update("examples", wantedDone, nTokens);
                        }
                    }
                    List<Path> folders = finish(job, model, saes, totals, windows, identity, corpus.counters(), w.encoderKinds(), w.encoderReasons());
                    deleteTree(work.getParent()); // checkpoints and remembered hashes: a finished run needs neither
                    return new Result(folders, nContexts, nTokens, computed, reused, req.contexts(), w.encoderKinds());
                }
            } finally {
                for (Sae sae : saes) sae.close();
                if (spool != null) Files.deleteIfExists(spool);
            }
        }
    }

    /**
     * A fresh temporary file for the spooled contexts of a run ({@link SpooledCorpus}); outside the output folder, so
     * that a corpus that fails validation leaves nothing there.
     */
    public static Path spoolFile() throws IOException {
        return Files.createTempFile("jlens-atlas-", ".contexts");
    }

    static Path codesFile(Path work, int shard) {
        return work.resolve(String.format("codes-%06d.bin", shard));
    }

    /** Builds the corpus over the loaded model (its tokenizer and BOS). */
    @FunctionalInterface
    public interface CorpusFactory {
        ContextSource open(Model model) throws IOException;
    }

    /** Refuses an SAE trained on another layer than the one captured. */
    public static void checkLayer(Sae sae, String id, int layer) {
        int hook = sae.cfg().hookLayer();
        if (hook >= 0 && hook != layer) {
            throw new IllegalArgumentException("SAE " + id + " was trained on " + sae.cfg().hookName() + " (layer " + hook
                    + "), but the atlas captures layer " + layer + ": pass --layer " + hook + " or an SAE of layer " + layer);
        }
    }

    /** The next shard: up to contextsPerShard contexts (empty at the end). */
    public static List<AtlasContext> nextShard(ContextSource.Pass pass, AtlasSettings s) throws IOException {
        List<AtlasContext> l = new ArrayList<>(s.contextsPerShard());
        AtlasContext c;
        while (l.size() < s.contextsPerShard() && (c = pass.next()) != null) l.add(c);
        return l;
    }

    /** What determines the numbers: model and SAE contents, settings, corpus, llama.cpp build. */
    public static Map<String, Object> identity(Job job, Model model, List<Sae> saes, ContextSource corpus) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "jlens-atlas/1");
        m.put("model_sha256", FileHashes.sha256(job.model(), hashMemo(job)));
        List<Map<String, Object>> sl = new ArrayList<>();
        for (int i = 0; i < saes.size(); i++) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("id", job.saes().get(i));
            e.put("sha256", FileHashes.ofSource(saes.get(i).source(), hashMemo(job)));
            sl.add(e);
        }
        m.put("saes", sl);
        m.put("settings", job.settings().describe());
        m.put("corpus", corpus.describe());
        m.put("ggml_commit", NativeLibrary.load().ggmlCommit());
        return m;
    }

    private static Path hashMemo(Job job) {
        return job.out().resolve(".atlas-work");
    }

    /**
     * After the two passes, on whichever machine merged them: logit lens, then one folder per SAE. Shared with
     * the Spark driver, so both write the same bytes.
     */
    public static List<Path> finish(Job job, Model model, List<Sae> saes, List<FeatureStats> totals, WindowRequests.Results windows,
                                    Map<String, Object> identity, Map<String, Object> counters, List<String> encoders,
                                    List<String> encoderReasons) throws IOException {
        List<Path> folders = job.folders();
        try (GgufFile gguf = GgufFile.open(job.model())) {
            LogitLens lens = new LogitLens(gguf, KernelProvider.best(), job.settings().threads());
            for (int i = 0; i < saes.size(); i++) {
                Sae sae = saes.get(i);
                int[] fired = totals.get(i).firedFeatures();
                List<LogitLens.Lists> logits = lens.compute(fired.length, k -> sae.decoderRow(fired[k]), job.settings().logitTokens());
                Map<String, Object> meta = new LinkedHashMap<>();
                meta.put("format", "jlens-atlas/1");
                meta.put("model", job.model().toAbsolutePath().normalize().toString());
                meta.put("model_sha256", identity.get("model_sha256"));
                meta.put("model_name", model.meta("general.name"));
                meta.put("layer", job.settings().layer());
                meta.put("hook_name", "blocks." + job.settings().layer() + ".hook_resid_post");
                Map<String, Object> se = new LinkedHashMap<>();
                se.put("id", job.saes().get(i));
                se.put("sha256", ((List<?>) identity.get("saes")).get(i) instanceof Map<?, ?> mm ? mm.get("sha256") : null);
                se.put("d_in", sae.dIn());
                se.put("d_sae", sae.dSae());
                se.put("architecture", sae.cfg().architecture());
                se.put("hook_name", sae.cfg().hookName());
                se.put("neuronpedia_id", sae.cfg().neuronpediaId());
                meta.put("sae", se);
                meta.putAll(job.settings().describe());
                meta.put("corpus", identity.get("corpus"));
                meta.put("corpus_counters", counters);
                meta.put("encoder", encoders.get(i));
                meta.put("encoder_reason", encoderReasons.get(i));
                meta.put("ggml_commit", identity.get("ggml_commit"));
                meta.put("logit_lens", new LinkedHashMap<>(Map.of("convention", LogitLens.CONVENTION)));
                // the final outputs are staged and move in together, atlas.json last: a folder with atlas.json is complete
                try (RunFolder folder = RunFolder.lock(folders.get(i))) {
                    Path staging = folder.stage();
                    try {
                        AtlasWriter.write(new AtlasWriter.Input(staging, meta, totals.get(i), i, windows, logits,
                                model.vocab()::piece, job.settings()));
                        AtlasBrowser.write(staging);
                        folder.commit(staging, "atlas.json");
                    } catch (IOException | RuntimeException e) {
                        RunFolder.discard(staging);
                        throw e;
                    }
                }
            }
        }
        return folders;
    }

    // ---- checkpoints: one file per shard with every SAE's partial, checksummed, written atomically ----

    public static void writePartial(Path file, int shard, List<AtlasContext> contexts, List<FeatureStats> part) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(PARTIAL_MAGIC);
            out.writeInt(shard);
            out.writeInt(contexts.size());
            out.writeLong(contexts.get(0).id());
            out.writeLong(contexts.get(contexts.size() - 1).id());
            out.writeInt(part.size());
            for (FeatureStats p : part) p.write(out);
        }
        byte[] body = bytes.toByteArray();
        byte[] sum = sha256(body);
        AtomicFiles.writeStream(file, os -> {
            os.write(body);
            os.write(sum);
        });
    }

    /** The shard's partials when the file is complete and matches this shard; null otherwise (recompute). */
    public static List<FeatureStats> readPartial(Path file, int shard, List<AtlasContext> contexts, int saes) {
        if (!Files.isRegularFile(file)) return null;
        try {
            byte[] all = Files.readAllBytes(file);
            if (all.length < 32) return null;
            byte[] body = Arrays.copyOf(all, all.length - 32);
            if (!Arrays.equals(sha256(body), Arrays.copyOfRange(all, all.length - 32, all.length))) {
                LOG.log(System.Logger.Level.WARNING, file + " is damaged (checksum); recomputing that shard");
                return null;
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(body))) {
                if (in.readInt() != PARTIAL_MAGIC || in.readInt() != shard || in.readInt() != contexts.size()
                        || in.readLong() != contexts.get(0).id() || in.readLong() != contexts.get(contexts.size() - 1).id()
                        || in.readInt() != saes) return null;
                List<FeatureStats> l = new ArrayList<>();
                for (int i = 0; i < saes; i++) l.add(FeatureStats.read(in));
                return l;
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, file + " unreadable (" + e.getMessage() + "); recomputing that shard");
            return null;
        }
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> w = Files.walk(dir)) {
            for (Path p : w.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
