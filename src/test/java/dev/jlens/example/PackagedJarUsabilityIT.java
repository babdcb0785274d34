package dev.jlens.example;

import dev.jlens.api.Toys;
import dev.jlens.formats.DType;
import dev.jlens.formats.NpyWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar as a new user meets it, from an empty folder outside the checkout (no models/, no native/lib, an
 * empty cache, no JLENS_* settings): {@code java -jar target/jlens-*.jar} runs the CLI through its manifest's
 * Class-Path, its auto encoder falls back to ggml without the incubator module and uses the Vector API with it; the
 * README's study snippet and a registry id load through the registry built into the jar; -Djlens.registry overrides it.
 * Runs in Maven's integration-test phase, after `package`.
 */
class PackagedJarUsabilityIT {
    @TempDir Path tmp;

    private static Path build() { return Path.of(System.getProperty("jlens.build.dir")); }

    private static Path jar() throws Exception {
        try (Stream<Path> s = Files.list(build())) {
            return s.filter(p -> p.getFileName().toString().matches("jlens-[0-9][0-9.]*(-SNAPSHOT)?\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no packaged jar in " + build()));
        }
    }

    private record Run(int exit, String out) {}

    /** Runs {@code args} with the JDK running the tests, in {@code cwd}, without any jlens setting from the build. */
    private Run run(Path cwd, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        for (String v : List.of("JLENS_NATIVE_DIR", "JLENS_MODELS_DIR", "JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS", "CLASSPATH")) pb.environment().remove(v);
        pb.environment().put("JLENS_CACHE", tmp.resolve("cache").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) { p.destroyForcibly(); throw new AssertionError("timed out: " + cmd + "\n" + out); }
        return new Run(p.exitValue(), out);
    }

    @Test
    void javaDashJarRunsTheCliAndItsAutoEncoderWithAndWithoutTheVectorModule() throws Exception {
        Path jar = jar();
        try (JarFile j = new JarFile(jar.toFile())) {
            Attributes a = j.getManifest().getMainAttributes();
            assertEquals("dev.jlens.cli.Main", a.getValue("Main-Class"));
            assertEquals("ALL-UNNAMED", a.getValue("Enable-Native-Access"));
            assertNull(a.getValue("Add-Opens"), "no empty Add-Opens entry");
            String cp = a.getValue("Class-Path");
            assertTrue(cp != null && cp.contains("lib/picocli-") && cp.contains("lib/jackson-databind-"), "Class-Path: " + cp);
            for (String entry : cp.split(" "))
                assertTrue(Files.isRegularFile(jar.getParent().resolve(entry)), "Class-Path names " + entry + ", absent next to the jar");
        }
        Path cwd = Files.createDirectories(tmp.resolve("empty"));
        Run help = run(cwd, List.of("-jar", jar.toString(), "--help"));
        assertEquals(0, help.exit(), help.out());
        assertTrue(help.out().contains("Usage: jlens") && help.out().contains("encode"), help.out());
        assertFalse(help.out().contains("NoClassDefFoundError") || help.out().contains("Exception"), help.out());

        // an encode through the jar alone: the auto encoder without and with the incubator module
        Path sae = tmp.resolve("sae/layer_5/width_256/params.npz");
        new Toys.RandomSae(64, 256, 2, 16, 5).writeGemmaScopeNpz(sae);
        float[] x = new float[9 * 64];
        Random r = new Random(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        Path acts = tmp.resolve("acts/activations.npy");
        Files.createDirectories(acts.getParent());
        NpyWriter.write(acts, DType.F32, new long[] {9, 64}, MemorySegment.ofArray(x));
        Run plain = run(cwd, List.of("-jar", jar.toString(), "encode", "--sae", sae.toString(), "--activations", acts.toString(), "--out", "plain"));
        assertEquals(0, plain.exit(), plain.out());
        assertEquals("ggml", encoder(cwd.resolve("plain/metrics.json")), "java -jar without the Vector API: the ggml fallback\n" + plain.out());
        assertTrue(Files.isRegularFile(cwd.resolve("plain/codes.npz")));
        Run vector = run(cwd, List.of("--add-modules", "jdk.incubator.vector", "-jar", jar.toString(), "encode", "--sae", sae.toString(),
                "--activations", acts.toString(), "--out", "vector"));
        assertEquals(0, vector.exit(), vector.out());
        assertEquals("vector", encoder(cwd.resolve("vector/metrics.json")), vector.out());
        var mp = new com.fasterxml.jackson.databind.ObjectMapper().readTree(cwd.resolve("plain/metrics.json").toFile());
        var mv = new com.fasterxml.jackson.databind.ObjectMapper().readTree(cwd.resolve("vector/metrics.json").toFile());
        assertEquals(9, mp.get("rows").asLong());
        for (String f : List.of("mse", "fvu")) {
            double u = mp.get(f).asDouble(), v = mv.get(f).asDouble();
            assertTrue(u > 0 && Math.abs(u - v) <= 1e-4 * u, f + ": ggml " + u + " vs vector " + v);
        }
    }

    /** MIT (jlens' own license and llama.cpp's) requires the copyright notices to travel with the binaries the jar carries. */
    @Test
    void theJarCarriesItsLicenseAndTheNoticesOfWhatItBundles() throws Exception {
        try (JarFile j = new JarFile(jar().toFile())) {
            String own = text(j, "META-INF/licenses/LICENSE");
            assertTrue(own.startsWith("MIT License") && own.contains("the jlens authors"), own);
            assertEquals(Files.readString(Path.of("LICENSE")), own, "the jar's LICENSE is the checkout's");
            String llama = text(j, "META-INF/licenses/llama.cpp/LICENSE");
            assertTrue(llama.startsWith("MIT License") && llama.contains("The ggml authors"), llama);
            assertTrue(j.stream().anyMatch(e -> e.getName().startsWith("dev/jlens/natives/linux-x86_64/libjlens-llama")),
                    "the notice is there because the llama.cpp build is");
            assertTrue(text(j, "dev/jlens/report/vendor/plotly.LICENSE").contains("MIT"));
        }
    }

    private static String text(JarFile j, String name) throws Exception {
        var e = j.getJarEntry(name);
        assertTrue(e != null, name + " is not in the jar");
        try (var in = j.getInputStream(e)) { return new String(in.readAllBytes(), StandardCharsets.UTF_8); }
    }

    private static String encoder(Path metrics) throws Exception {
        return new com.fasterxml.jackson.databind.ObjectMapper().readTree(metrics.toFile()).get("encoder").asText();
    }

    /** The README's study snippet and a registry-id load, verbatim API calls, as a single-file program. */
    private static final String SNIPPET = """
            import dev.jlens.api.*;
            import java.nio.file.Path;

            public class Snippet {
                public static void main(String[] args) throws Exception {
                    if (args.length == 1) {
                        try (SparseAutoencoder sae = SparseAutoencoder.load(args[0])) { System.out.println("loaded " + args[0] + " d_sae " + sae.dSae()); }
                        return;
                    }
                    Toys.PlantedFrance toy = Toys.plantedFrance(true, null);           // or your GGUF and two SAE ids/paths
                    Experiment.Outcome r = Experiment.run(toy.model(), toy.coarseSae(), toy.fineSae(), Path.of("runs/demo"),
                            Experiment.Settings.builder().permutations(200).build(), ProgressListener.NONE);
                    System.out.println(r.verdict().decision() + ": " + r.verdict().reason() + "\\n" + r.report());
                    try (SparseAutoencoder sae = SparseAutoencoder.load("jlens-toy/planted-france/fine")) {
                        System.out.println("registry id d_sae " + sae.dSae() + " " + sae.hookName());
                    }
                }
            }
            """;

    @Test
    void readmeSnippetAndRegistryIdsRunFromAnEmptyFolderAgainstThePackagedJar() throws Exception {
        Path jar = jar();
        Path cwd = Files.createDirectories(tmp.resolve("user-project"));
        Path src = tmp.resolve("src/Snippet.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, SNIPPET);
        List<String> java = List.of("--module-path", jar + File.pathSeparator + build().resolve("lib"), "--add-modules", "dev.jlens",
                "--enable-native-access=dev.jlens");
        List<String> cmd = new ArrayList<>(java);
        cmd.add(src.toString());
        long t0 = System.nanoTime();
        Run study = run(cwd, cmd);
        assertEquals(0, study.exit(), study.out());
        assertTrue(study.out().matches("(?s).*\\b(GO|NO-GO)\\b: .*"), study.out());
        assertTrue(study.out().contains("registry id d_sae 8192 blocks.12.hook_resid_post"), study.out());
        assertTrue(Files.isRegularFile(cwd.resolve("models/generated/planted-france/fine/params.npz")), "the toy lives under ./models of the user's folder");
        assertTrue(Files.isRegularFile(cwd.resolve("runs/demo/results.json")));
        assertFalse(Files.exists(cwd.resolve("models/registry.json")), "the registry came from the jar");
        System.out.println("[usability] README study snippet from an empty folder: " + (System.nanoTime() - t0) / 1_000_000 + " ms");

        // -Djlens.registry names a user's own registry; its paths resolve against ./models (or JLENS_MODELS_DIR)
        Path reg = tmp.resolve("my-registry.json");
        Files.writeString(reg, """
                {"releases": {"mine": {"format": "gemma-scope-npz", "hook_layer": 5,
                  "saes": {"toy": {"path": "mine/params.npz", "d_in": 64, "d_sae": 256}}}}}
                """);
        new Toys.RandomSae(64, 256, 3, 16, 5).writeGemmaScopeNpz(cwd.resolve("models/mine/params.npz"));
        List<String> own = new ArrayList<>(List.of("-Djlens.registry=" + reg));
        own.addAll(java);
        own.add(src.toString());
        own.add("mine/toy");
        Run mine = run(cwd, own);
        assertEquals(0, mine.exit(), mine.out());
        assertTrue(mine.out().contains("loaded mine/toy d_sae 256"), mine.out());
        List<String> builtIn = new ArrayList<>(own.subList(0, own.size() - 1));
        builtIn.add("jlens-toy/planted-france/coarse");
        Run replaced = run(cwd, builtIn);
        assertTrue(replaced.exit() != 0 && replaced.out().contains("jlens-toy") && replaced.out().contains(reg.toString()), "the user's registry replaces the built-in one: " + replaced.out());
    }
}
