package dev.jlens.embed;

import dev.jlens.isolated.JavaProcess;
import dev.jlens.toy.Gemma2Config;
import dev.jlens.toy.ToyModels;
import dev.jlens.toy.Vocabulary;
import dev.jlens.formats.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Two different ggml builds in one JVM, both used: a second ggml with upstream library names and other
 * build options (scripts/build-other-ggml.sh, run by scripts/test.sh) is loaded first, as another wrapper
 * in the same application would load it, with its CPU backend as a module like a llama.cpp release
 * (libggml-cpu-haswell.so on an AVX2 machine, the same file name jlens' portable build then loads from its own
 * folder); then jlens loads its own build and captures. jlens' libraries have
 * their own SONAMEs (libjlens-*.so.0), so the dynamic loader cannot resolve jlens' DT_NEEDED entries against
 * the other build (it would with upstream names: a DT_NEEDED name matches any loaded object's SONAME).
 * Runs in a child JVM so the other build really is loaded before jlens' natives.
 */
class NativeCoexistenceTest {
    @TempDir Path tmp;

    @Test
    void anotherGgmlLoadedFirstAndJlensWorkSideBySide() throws Exception {
        Path other = Path.of(System.getProperty("jlens.project.dir", ".")).resolve("native").resolve("other-ggml");
        assumeTrue(Files.isRegularFile(other.resolve("libggml-base.so.0")),
                "no second ggml build in " + other + ": scripts/build-other-ggml.sh makes it (scripts/test.sh runs it)");
        Gemma2Config cfg = Gemma2Config.tiny().withNVocab(512);
        Vocabulary vocab = Vocabulary.build(List.of("the", "capital", "of", "France", "is", "Paris"), cfg.nVocab());
        Path model = tmp.resolve("tiny.gguf");
        ToyModels.write(model, cfg, vocab, ToyModels.generate(cfg, vocab, 5), GgmlType.F32);

        Process p = JavaProcess.builder(CoexistenceChildMain.class.getName(), List.of(other.toString(), model.toString()))
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child did not finish:\n" + out);
        assertEquals(0, p.exitValue(), "child failed:\n" + out);
        Map<String, String> kv = new HashMap<>();
        java.util.regex.Pattern fact = java.util.regex.Pattern.compile("^([a-z_]+)=(.*)$");
        for (String line : out.split("\n")) {
            java.util.regex.Matcher m = fact.matcher(line.strip());
            if (m.matches()) kv.put(m.group(1), m.group(2));
        }
        System.out.println(kv);
        assertEquals("[11.0, 22.0, 33.0, 44.0]", kv.get("other_sum_before"), out);
        assertEquals("[11.0, 22.0, 33.0, 44.0]", kv.get("other_sum_after"), out);
        assertTrue(Integer.parseInt(kv.get("jlens_capture_rows")) >= 2, out);
        float s = Float.parseFloat(kv.get("jlens_capture_abs_sum"));
        assertTrue(Float.isFinite(s) && s > 0, out);
        assertEquals("true", kv.get("ggml_init_distinct"), "both sides bound to one ggml:\n" + out);
        assertEquals("true", kv.get("jlens_openmp"), "jlens' libllama runs on a CPU backend without OpenMP: the other build's?\n" + out);
        assertEquals("true", kv.get("other_mapped"), out);
        assertEquals("true", kv.get("jlens_mapped"), out);
        assertTrue(out.contains("\ndone"), out);
        // two CPU backend modules mapped, one from each build's folder; where both builds chose the same variant
        // (haswell on an AVX2 machine), two files of the same name are two separate objects
        Path jlensCpu = Path.of(kv.get("jlens_cpu"));
        List<Path> modules = java.util.Arrays.stream(kv.get("cpu_modules").split(",")).map(Path::of).toList();
        assertEquals(2, modules.size(), "CPU modules mapped: " + modules);
        assertTrue(modules.contains(jlensCpu), modules + " vs " + jlensCpu);
        Path theirs = modules.stream().filter(m -> !m.equals(jlensCpu)).findFirst().orElseThrow();
        assertEquals(other.toRealPath(), theirs.getParent(), "the other build's CPU module comes from its folder");
        if (jlensCpu.getFileName().toString().equals("libggml-cpu-haswell.so"))
            assertEquals(jlensCpu.getFileName(), theirs.getFileName(), "both builds run libggml-cpu-haswell.so here");
    }
}
