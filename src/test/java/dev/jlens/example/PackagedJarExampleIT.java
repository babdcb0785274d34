package dev.jlens.example;

import dev.jlens.formats.GgmlType;
import dev.jlens.pipeline.ToyModelJob;
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
            jar = s.filter(p -> p.getFileName().toString().matches("jlens-.*\\.jar")).findFirst().orElseThrow(() -> new AssertionError("no packaged jar in " + build));
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
        try (Stream<Path> s = Files.list(tmp.resolve("cache/natives"))) {
            assertEquals(1, s.count(), "natives extracted once into the per-version cache");
        }
    }
}
