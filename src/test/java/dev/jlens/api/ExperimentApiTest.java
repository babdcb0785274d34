package dev.jlens.api;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The experiment and steering facades on the planted France toy, whose right answer is known (coarse feature 337
 * carries the concept, eight fine features its facets): the whole run, a repeated run from the cache, the stages on
 * capture folders, the report, the steering comparison, and the settings' validation. A 40+40-prompt subset of the
 * shipped sets and 100 permutations keep it to seconds.
 */
class ExperimentApiTest {
    static final int PLANTED_ANCHOR = 337;

    @TempDir static Path dir;
    static Toys.PlantedFrance toy;
    static Path target, control, cache;
    static Experiment.Settings settings;
    static Experiment.Outcome first;
    static final Map<String, long[]> lastUpdate = new ConcurrentHashMap<>();

    @BeforeAll
    static void runOnce() throws IOException {
        toy = Toys.plantedFrance(true, "classic", null); // its matches name their facets: the steering tests target them
        target = dir.resolve("target.jsonl");
        control = dir.resolve("control.jsonl");
        Files.write(target, everyFifth("france.jsonl"));
        Files.write(control, everyFifth("neutral.jsonl"));
        cache = dir.resolve("cache");
        settings = Experiment.Settings.builder().targetPrompts(target).controlPrompts(control).permutations(100).threads(2).cacheDir(cache).build();
        first = Experiment.run(toy.model(), toy.coarseSae(), toy.fineSae(), dir.resolve("run"), settings,
                (stage, done, total) -> lastUpdate.put(stage, new long[] {done, total}));
    }

    private static List<String> everyFifth(String shipped) throws IOException {
        List<String> all;
        try (var in = ExperimentApiTest.class.getResourceAsStream("/dev/jlens/prompts/" + shipped)) {
            all = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < all.size(); i += 5) out.add(all.get(i));
        return out;
    }

    @Test
    void runFindsThePlantedConceptAndWritesItsOutputs() throws IOException {
        Verdict v = first.verdict();
        assertTrue(v.go(), v.toString());
        assertEquals(dev.jlens.api.Decision.GO, v.decision());
        assertEquals(PLANTED_ANCHOR, v.anchor());
        assertTrue(v.matches() >= v.required() && v.required() == 3, v.toString());
        Path out = dir.resolve("run");
        assertEquals(out, first.outDir());
        assertEquals(out.resolve("report.html"), first.report());
        assertEquals(out.resolve("results.json"), first.resultsJson());
        for (String f : List.of("results.json", "report.html", "features_coarse.csv", "features_fine.csv", "pairs.csv", "heatmap.png", "scatter.png")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f);
        }
        assertEquals(List.of("hash", "capture", "encode_coarse", "encode_fine", "contrast", "crossmap", "outputs"),
                List.copyOf(first.stageSeconds().keySet()));
        assertTrue(first.shardsComputed() > 0, "a fresh cache is filled");
        for (String stage : List.of("capture", "encode coarse", "encode fine")) {
            long[] u = lastUpdate.get(stage);
            assertNotNull(u, "progress of " + stage + ": " + lastUpdate.keySet());
            assertEquals(u[1], u[0], stage + " ends done");
        }
        Experiment.Results read = Experiment.Results.read(first.resultsJson());
        assertEquals(v, read.verdict());
        assertEquals(toy.model(), read.model());
        assertEquals(12, read.layer());
        assertEquals(toy.coarseSae(), read.coarseSae());
        assertEquals(toy.fineSae(), read.fineSae());
    }

    @Test
    void aRepeatedRunComesFromTheCacheAndIsByteIdentical() throws IOException {
        Experiment.Outcome again = Experiment.run(toy.model(), toy.coarseSae(), toy.fineSae(), dir.resolve("again"), settings, null);
        assertEquals(0, again.shardsComputed());
        assertEquals(-1L, Files.mismatch(first.resultsJson(), again.resultsJson()));
        assertEquals(first.verdict(), again.verdict());
    }

    @Test
    void theUnplantedToyIsNoGo() throws IOException {
        Toys.PlantedFrance unplanted = Toys.plantedFrance(false, null);
        Experiment.Outcome r = Experiment.run(unplanted.model(), unplanted.coarseSae(), unplanted.fineSae(), dir.resolve("unplanted"),
                settings, ProgressListener.NONE);
        assertFalse(r.verdict().go(), r.verdict().toString());
        assertEquals(dev.jlens.api.Decision.NO_GO, r.verdict().decision());
    }

    @Test
    void stagesOnCaptureFoldersAgreeWithTheWholeRun() throws IOException {
        CaptureFolder.Options o = CaptureFolder.Options.defaults().withThreads(2);
        CaptureFolder.write(toy.model(), Prompts.load(target), 12, dir.resolve("tcap"), o, null);
        CaptureFolder.write(toy.model(), Prompts.load(control), 12, dir.resolve("ccap"), o, null);
        Experiment.Captures in = new Experiment.Captures(dir.resolve("tcap"), dir.resolve("ccap"), target, control);

        Experiment.Contrast c = Experiment.contrast(in, toy.coarseSae(), dir.resolve("contrast"), settings, null);
        assertEquals(PLANTED_ANCHOR, c.topBySelectivity().getFirst().feature(), c.topBySelectivity().toString());
        assertTrue(c.activeFeatures() > 0 && c.activations() >= c.activeFeatures());
        assertTrue(c.topBySelectivity().size() <= settings.fineCandidates());
        assertEquals(c.topBySelectivity().size(), c.topByEffectSize().size());
        assertEquals(dir.resolve("contrast/contrast.json"), c.json());
        assertTrue(Files.isRegularFile(c.json()) && Files.isRegularFile(c.csv()));
        FeatureStats f = c.topBySelectivity().getFirst();
        assertTrue(f.meanTarget() > f.meanControl() && f.auroc() > 0.5 && f.selectivity() <= 1, f.toString());

        Experiment.Outcome map = Experiment.crossmap(in, toy.coarseSae(), toy.fineSae(), dir.resolve("map"), settings, null);
        assertEquals(first.verdict(), map.verdict(), "the same prompts captured apart give the same verdict");
        assertFalse(map.stageSeconds().containsKey("capture"));

        Path report = map.results().writeReport(dir.resolve("rewritten"));
        assertEquals(dir.resolve("rewritten/report.html"), report);
        assertTrue(Files.size(report) > 100_000, "self-contained report");
        assertTrue(Files.isRegularFile(dir.resolve("rewritten/heatmap.png")));

        Experiment.Captures missing = new Experiment.Captures(dir.resolve("nope"), dir.resolve("ccap"), null, null);
        IOException e = assertThrows(IOException.class, () -> Experiment.crossmap(missing, toy.coarseSae(), toy.fineSae(), dir.resolve("no-map"), settings, null));
        assertTrue(Failures.isBadInput(e) && e.getMessage().contains("nope"), e.toString());
    }

    @Test
    void runFolderDependsOnTheConfigurationOnly() throws IOException {
        Path root = dir.resolve("runs");
        Path a = Experiment.runFolder(root, "france", toy.model(), toy.coarseSae(), toy.fineSae(), settings);
        assertEquals(a, Experiment.runFolder(root, "france", toy.model(), toy.coarseSae(), toy.fineSae(), settings.toBuilder().build()));
        assertTrue(a.getFileName().toString().matches("france-[0-9a-f]{12}"), a.toString());
        assertEquals(root, a.getParent());
        assertNotEquals(a, Experiment.runFolder(root, "france", toy.model(), toy.coarseSae(), toy.fineSae(),
                settings.toBuilder().permutations(101).build()));
        assertNotEquals(a, Experiment.runFolder(root, "france", toy.model(), toy.fineSae(), toy.coarseSae(), settings));
    }

    @Test
    void settingsValidateWithTheExperimentsRules() {
        Experiment.Settings d = Experiment.Settings.defaults();
        assertEquals(12, d.layer());
        assertEquals(Experiment.Aggregate.MAX, d.aggregate());
        assertEquals(List.of(10, 100, 3, 1000, 2048, 64), List.of(d.anchors(), d.fineCandidates(), d.minSubFeatures(), d.permutations(),
                d.contextTokens(), d.promptsPerBatch()));
        assertEquals(List.of(0.5, 0.3, 0.5), List.of(d.minActivation(), d.minCosine(), d.minCorrelation()));
        assertEquals(Path.of("runs", "cache"), d.cacheDir());
        assertEquals(d, d.toBuilder().build());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Experiment.Settings.builder().anchors(0).build());
        assertEquals("anchors must be >= 1, got 0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Experiment.Settings.builder().minCosine(1).build());
        assertThrows(IllegalArgumentException.class, () -> Experiment.Settings.builder().promptsPerBatch(257).build());
        assertThrows(IllegalArgumentException.class, () -> Experiment.Settings.builder().threads(0).build());
        assertThrows(NullPointerException.class, () -> Experiment.Settings.builder().aggregate(null).build());
        assertEquals(Experiment.Aggregate.MEAN, Experiment.Aggregate.parse("Mean"));
        e = assertThrows(IllegalArgumentException.class, () -> Experiment.Aggregate.parse("median"));
        assertEquals("unknown aggregate 'median': expected max, mean or last", e.getMessage());
    }

    @Test
    void steeringComparesConditionsForTheAnchorAndWritesItsOutputs() throws IOException {
        Map<String, long[]> gen = new ConcurrentHashMap<>();
        SteeringStudy.Settings s = SteeringStudy.Settings.builder().prompts(2).seeds(1).strengths(0, 4).maxTokens(6).bootstrapResamples(50)
                .threads(2).build();
        Path out = dir.resolve("steer");
        SteeringStudy.Outcome o = SteeringStudy.run(first.results(), out, s, (stage, done, total) -> gen.put("last", new long[] {done, total}));
        assertTrue(List.of("MULTI_RESOLUTION_BETTER", "NOT_SHOWN").contains(o.decision().name()), o.verdict().toString());
        assertEquals(PLANTED_ANCHOR, o.anchor());
        assertEquals(4.0, o.strength());
        assertFalse(o.sentence().isBlank());
        assertEquals(out.resolve("report.html"), o.report());
        for (Path p : List.of(o.report(), o.steeringJson(), o.generationsCsv())) assertTrue(Files.isRegularFile(p), p.toString());
        // 2 prompts x 1 seed x (the unsteered baseline + 5 conditions at strength 4)
        assertArrayEquals(new long[] {12, 12}, gen.get("last"));
        assertEquals(1 + 12, Files.readAllLines(o.generationsCsv()).size(), "a header and one line per generation");

        SteeringStudy.Outcome other = SteeringStudy.run(first.results(), dir.resolve("steer-other"),
                s.toBuilder().targetFine(otherMatch(o)).prompts(1).strengths(0, 2).build(), null);
        assertEquals(otherMatch(o), other.targetFine());
    }

    private static int otherMatch(SteeringStudy.Outcome o) throws IOException {
        String pairs = Files.readString(dir.resolve("run/pairs.csv"));
        for (String line : pairs.split("\n")) {
            String[] f = line.split(",");
            if (f.length == 5 && f[0].equals(String.valueOf(PLANTED_ANCHOR)) && f[4].equals("MATCH") && !f[1].equals(String.valueOf(o.targetFine()))) {
                return Integer.parseInt(f[1]);
            }
        }
        throw new AssertionError("no second match in pairs.csv:\n" + pairs);
    }

    @Test
    void steeringRejectsBadInputWithTheReason() throws IOException {
        SteeringStudy.Settings s = SteeringStudy.Settings.builder().prompts(1).seeds(1).strengths(0, 4).maxTokens(4).threads(2).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SteeringStudy.run(first.results(), dir.resolve("no-steer"), s.toBuilder().targetFine(3).build(), null));
        assertTrue(e.getMessage().contains("fine feature 3 is not matched to anchor " + PLANTED_ANCHOR), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SteeringStudy.run(first.results(), dir.resolve("no-steer"), s.toBuilder().strengths(4, 2).build(), null));
        assertEquals("strengths must be strictly increasing, got [4.0, 2.0]", e.getMessage());

        Path moved = dir.resolve("moved-results.json");
        Files.writeString(moved, Files.readString(first.resultsJson()).replace(toy.model().toString(), "/nowhere/model.gguf"));
        e = assertThrows(IllegalArgumentException.class, () -> SteeringStudy.run(Experiment.Results.read(moved), dir.resolve("no-steer"), s, null));
        assertTrue(e.getMessage().contains("/nowhere/model.gguf, which is not a file here"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("no-steer")), "nothing written before the checks");
    }

    @Test
    void steeringSettingsCopyTheirArrays() {
        long[] seeds = {5, 6};
        SteeringStudy.Settings s = SteeringStudy.Settings.builder().seeds(seeds).build();
        seeds[0] = 99;
        s.seeds()[1] = 99;
        assertArrayEquals(new long[] {5, 6}, s.seeds());
        SteeringStudy.Settings d = SteeringStudy.Settings.defaults();
        assertArrayEquals(new double[] {0, 2, 4, 8}, d.strengths());
        assertEquals(SteeringStudy.Mode.ADD, d.mode());
        assertNull(d.targetFine());
        assertThrows(NullPointerException.class, () -> SteeringStudy.Settings.builder().mode(null).build());
    }
}
