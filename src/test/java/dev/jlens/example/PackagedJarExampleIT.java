package dev.jlens.example;

import dev.jlens.formats.GgmlType;
import dev.jlens.toy.ToyModelJob;
import dev.jlens.sae.ToySae;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Runs examples/CaptureExample.java as a user would: against the PACKAGED jar on the module path (so only
 * dev.jlens.api is visible), from a folder with no native/lib, with an empty cache — the llama.cpp libraries
 * must come out of the jar. Runs in Maven's integration-test phase, after `package`.
 */
class PackagedJarExampleIT {
    @TempDir Path tmp;

    @Test
    void exampleRunsAgainstThePackagedJarWithItsEmbeddedNatives() throws Exception {
        Path project = Path.of(System.getProperty("jlens.project.dir"));
        Path build = Path.of(System.getProperty("jlens.build.dir"));
        Path jar;
        try (Stream<Path> s = Files.list(build)) {
            jar = s.filter(p -> p.getFileName().toString().matches("jlens-[0-9][0-9.]*(-SNAPSHOT)?\\.jar")).findFirst().orElseThrow(() -> new AssertionError("no packaged jar in " + build));
        }
        // the jar's natives folder holds exactly the files its list names, plus the list
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(jar.toFile())) {
            String prefix = "dev/jlens/natives/linux-x86_64/";
            java.util.Set<String> inJar = new java.util.TreeSet<>();
            z.stream().map(java.util.zip.ZipEntry::getName).filter(n -> n.startsWith(prefix) && n.length() > prefix.length())
                    .forEach(n -> inJar.add(n.substring(prefix.length())));
            java.util.Set<String> listed = new java.util.TreeSet<>();
            for (String line : new String(z.getInputStream(z.getEntry(prefix + "natives.list")).readAllBytes(), StandardCharsets.UTF_8).split("\n"))
                if (!line.isBlank()) listed.add(line.strip().split("\\s+")[1]);
            listed.add("natives.list");
            assertEquals(listed, inJar, "files in the jar vs its natives.list");
        }
        Path model = tmp.resolve("tiny.gguf");
        ToyModelJob.write(model, ToyModelJob.Kind.TINY, GgmlType.F32, 3);
        Path sae = tmp.resolve("sae/layer_12/width_256/params.npz");
        ToySae.builder(64, 256, 5).targetL0(16).writeGemmaScopeNpz(sae);

        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String modulePath = jar + File.pathSeparator + build.resolve("lib");
        List<String> cmd = new ArrayList<>(List.of(javaBin, "--module-path", modulePath, "--add-modules", "dev.jlens",
                "--enable-native-access=dev.jlens", project.resolve("examples/CaptureExample.java").toString(), model.toString(), sae.toString()));
        Path cwd = Files.createDirectories(tmp.resolve("work"));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true);
        pb.environment().remove("JLENS_NATIVE_DIR");
        pb.environment().put("JLENS_CACHE", tmp.resolve("cache").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "example timed out");
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("prompt 0 top features: #"), out);
        assertTrue(out.contains("of layer 12 (d_model 64)"), out);
        Path extracted;
        try (Stream<Path> s = Files.list(tmp.resolve("cache/natives"))) {
            List<Path> dirs = s.toList();
            assertEquals(1, dirs.size(), "natives extracted once into the per-version cache: " + dirs);
            extracted = dirs.get(0).toRealPath();
        }
        // the portable build: the linked libraries plus one CPU backend module per x86 feature level, and the one
        // running is a module from the extracted folder (not a -march=native libjlens-ggml-cpu)
        List<String> names;
        try (Stream<Path> s = Files.list(extracted)) {
            names = s.map(f -> f.getFileName().toString()).sorted().toList();
        }
        for (String lib : List.of("libjlens-ggml-base.so.0", "libjlens-ggml.so.0", "libjlens-llama.so.0", "libggml-cpu-x64.so", "libggml-cpu-haswell.so"))
            assertTrue(names.contains(lib), "extracted folder lacks " + lib + ": " + names);
        assertFalse(names.contains("libjlens-ggml-cpu.so.0"), "the jar carries a machine-specific CPU backend: " + names);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("llama\\.cpp from (\\S+), CPU backend (\\S+)").matcher(out);
        assertTrue(m.find(), out);
        assertEquals(extracted, Path.of(m.group(1)).toRealPath(), out);
        Path cpu = Path.of(m.group(2));
        assertEquals(extracted, cpu.getParent(), out);
        assertTrue(cpu.getFileName().toString().matches("libggml-cpu-[a-z0-9_]+\\.so"), out);
    }
}
