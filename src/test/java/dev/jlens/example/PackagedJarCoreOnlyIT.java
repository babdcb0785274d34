package dev.jlens.example;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The library without the command line's dependencies (issue 18): a consumer that has only the packaged jar and its
 * NON-optional dependencies (what a Maven project depending on dev.jlens:jlens gets; picocli and JFreeChart are
 * optional in the POM) captures, encodes, decodes, runs the France study and builds an atlas. Module path with
 * {@code --limit-modules dev.jlens}: only dev.jlens and what it requires non-statically are observable, so neither
 * picocli, JFreeChart nor java.desktop can be resolved; then the class path with the same jars redraws the report.
 * The study writes report.html and, without JFreeChart, no PNGs. Runs in Maven's integration-test phase, after `package`.
 */
class PackagedJarCoreOnlyIT {
    @TempDir Path tmp;

    private static Path build() { return Path.of(System.getProperty("jlens.build.dir")); }

    private static Path jar() throws Exception {
        try (Stream<Path> s = Files.list(build())) {
            return s.filter(p -> p.getFileName().toString().matches("jlens-[0-9][0-9.]*(-SNAPSHOT)?\\.jar")).findFirst()
                    .orElseThrow(() -> new AssertionError("no packaged jar in " + build()));
        }
    }

    /**
     * The packaged POM's direct dependencies outside test/provided scope, by artifactId, with whether each is optional:
     * the top-level {@code <dependencies>} (after {@code <dependencyManagement>}, before {@code <build>}).
     */
    static Map<String, Boolean> pomDependencies(Path jar) throws Exception {
        String pom;
        try (ZipFile z = new ZipFile(jar.toFile())) {
            var e = z.getEntry("META-INF/maven/dev.jlens/jlens/pom.xml");
            assertNotNull(e, "the jar carries its POM");
            pom = new String(z.getInputStream(e).readAllBytes(), StandardCharsets.UTF_8).replaceAll("(?s)<!--.*?-->", "");
        }
        int from = pom.indexOf("<dependencies>", pom.indexOf("</dependencyManagement>"));
        String deps = pom.substring(from, pom.indexOf("</dependencies>", from));
        assertTrue(from > 0 && deps.indexOf("<build>") < 0, "the POM's top-level dependencies");
        Map<String, Boolean> out = new TreeMap<>();
        var m = java.util.regex.Pattern.compile("(?s)<dependency>(.*?)</dependency>").matcher(deps);
        while (m.find()) {
            String d = m.group(1);
            String scope = tag(d, "scope");
            if ("test".equals(scope) || "provided".equals(scope)) continue;
            out.put(tag(d, "artifactId"), "true".equals(tag(d, "optional")));
        }
        return out;
    }

    private static String tag(String xml, String name) {
        var m = java.util.regex.Pattern.compile("<" + name + ">\\s*([^<]*?)\\s*</" + name + ">").matcher(xml);
        return m.find() ? m.group(1) : null;
    }

    private static final String PROGRAM = """
            import dev.jlens.api.*;
            import java.nio.file.*;
            import java.util.List;

            public class CoreOnly {
                public static void main(String[] args) throws Exception {
                    for (String c : List.of("picocli.CommandLine", "org.jfree.chart.JFreeChart", "java.awt.Color")) {
                        boolean found;
                        try { Class.forName(c); found = true; } catch (ClassNotFoundException e) { found = false; }
                        System.out.println("visible " + c + " " + found);
                    }
                    System.out.println("module java.desktop " + ModuleLayer.boot().findModule("java.desktop").isPresent());
                    if (args[0].equals("redraw")) {
                        Path report = Experiment.Results.read(Path.of(args[1], "results.json")).writeReport(Path.of(args[2]));
                        System.out.println("redrawn " + report);
                        return;
                    }
                    Toys.PlantedFrance toy = Toys.plantedFrance(true, null);
                    try (LensModel m = LensModel.load(toy.model());
                         LensSession s = m.newSession(256, 2);
                         LayerActivations x = s.capture(List.of("The capital of France is Paris.", "Cheese and wine in Lyon."), 12);
                         SparseAutoencoder sae = SparseAutoencoder.load(toy.coarseSae())) {
                        FeatureActivations f = sae.encode(x);
                        float[][] back = sae.decode(f);
                        int active = 0;
                        for (int r = 0; r < f.rows(); r++) active += f.features(r).length;
                        System.out.println("captured " + x.rows() + " rows, " + active + " active features, decoded " + back.length + " x " + back[0].length);
                    }
                    Experiment.Outcome r = Experiment.run(toy.model(), toy.coarseSae(), toy.fineSae(), Path.of("runs/demo"),
                            Experiment.Settings.builder().permutations(50).build(), ProgressListener.NONE);
                    System.out.println("study " + r.verdict().decision() + " report " + r.report());
                    Atlas.Toy t = Atlas.toy(null);
                    Atlas.Summary a = Atlas.run(t.model(), t.saes().subList(0, 1), t.corpus().toString(), Path.of("atlas"),
                            Atlas.Options.defaults().withMaxTokens(2000), ProgressListener.NONE);
                    System.out.println("atlas " + a.contexts() + " contexts " + a.folders());
                }
            }
            """;

    private record Run(int exit, String out) {}

    private Run run(Path cwd, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        for (String v : List.of("JLENS_NATIVE_DIR", "JLENS_MODELS_DIR", "JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS", "CLASSPATH")) pb.environment().remove(v);
        pb.environment().put("JLENS_CACHE", tmp.resolve("cache").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(400, TimeUnit.SECONDS)) { p.destroyForcibly(); throw new AssertionError("timed out: " + cmd + "\n" + out); }
        return new Run(p.exitValue(), out);
    }

    @Test
    void theLibraryRunsWithOnlyItsNonOptionalDependencies() throws Exception {
        Path jar = jar();
        Map<String, Boolean> deps = pomDependencies(jar);
        assertEquals(Map.of("picocli", true, "jfreechart", true, "jackson-databind", false), deps, "the POM's runtime dependencies and which are optional");

        // the core module path: the jar and target/lib without the optional artifacts (and what only they pull in). The
        // jar is copied away from target/ first, as it lies in a consumer's local repository: beside target/lib its
        // manifest Class-Path (for `java -jar`) would put picocli and JFreeChart on a class path
        Path alone = Files.createDirectories(tmp.resolve("repository/dev/jlens/jlens")).resolve(jar.getFileName());
        Files.copy(jar, alone);
        List<Path> core = new ArrayList<>(List.of(alone));
        TreeSet<String> left = new TreeSet<>();
        try (Stream<Path> s = Files.list(build().resolve("lib"))) {
            for (Path p : s.sorted().toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith("picocli-") || n.startsWith("jfreechart-")) continue;
                core.add(p);
                left.add(n.replaceAll("-[0-9][^-]*\\.jar$", ""));
            }
        }
        assertEquals(new TreeSet<>(List.of("jackson-annotations", "jackson-core", "jackson-databind")), left,
                "the library's whole dependency closure is Jackson");
        String mp = String.join(File.pathSeparator, core.stream().map(Path::toString).toList());

        Path src = Files.createDirectories(tmp.resolve("src")).resolve("CoreOnly.java");
        Files.writeString(src, PROGRAM);
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        Process javac = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "javac").toString(), "--module-path", mp,
                "--add-modules", "dev.jlens", "-d", classes.toString(), src.toString()).redirectErrorStream(true).start();
        String err = new String(javac.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(javac.waitFor(120, TimeUnit.SECONDS), "javac timed out");
        assertEquals(0, javac.exitValue(), "the consumer compiles against the core module path alone: " + err);

        Path cwd = Files.createDirectories(tmp.resolve("user-project"));
        long t0 = System.nanoTime();
        Run r = run(cwd, List.of("--module-path", mp, "--add-modules", "dev.jlens", "--limit-modules", "dev.jlens",
                "--enable-native-access=dev.jlens", "-cp", classes.toString(), "CoreOnly", "all"));
        assertEquals(0, r.exit(), r.out());
        for (String c : List.of("picocli.CommandLine", "org.jfree.chart.JFreeChart", "java.awt.Color"))
            assertTrue(r.out().contains("visible " + c + " false"), r.out());
        assertTrue(r.out().contains("module java.desktop false"), r.out());
        assertTrue(r.out().matches("(?s).*captured (\\d+) rows, [1-9]\\d* active features, decoded \\1 x 256\\b.*"), r.out()); // toy d_model 256
        assertTrue(r.out().matches("(?s).*study (GO|NO-GO|NO_GO) report.*"), r.out());
        assertTrue(r.out().matches("(?s).*atlas [1-9]\\d* contexts.*"), r.out());
        Path run = cwd.resolve("runs/demo");
        assertTrue(Files.isRegularFile(run.resolve("report.html")) && Files.isRegularFile(run.resolve("results.json")), r.out());
        assertFalse(Files.exists(run.resolve("heatmap.png")) || Files.exists(run.resolve("scatter.png")), "no JFreeChart, no PNGs");
        assertTrue(r.out().contains("heatmap.png and scatter.png not written"), "the skip is logged: " + r.out());
        assertTrue(Files.isRegularFile(cwd.resolve("atlas/atlas.json")), r.out());
        System.out.println("[core-only] capture, encode, decode, study and atlas with Jackson alone: " + (System.nanoTime() - t0) / 1_000_000 + " ms");

        // the class path, as a plain Maven consumer runs: the report is redrawn without the PNGs
        Path redraw = cwd.resolve("redrawn");
        Run cp = run(cwd, List.of("--enable-native-access=ALL-UNNAMED", "-cp", mp + File.pathSeparator + classes, "CoreOnly", "redraw",
                run.toString(), redraw.toString()));
        assertEquals(0, cp.exit(), cp.out());
        assertTrue(cp.out().contains("visible picocli.CommandLine false") && cp.out().contains("visible org.jfree.chart.JFreeChart false"), cp.out());
        assertTrue(Files.isRegularFile(redraw.resolve("report.html")), cp.out());
        assertFalse(Files.exists(redraw.resolve("heatmap.png")), cp.out());
    }
}
