package dev.jlens.slice;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code scripts/gpu-check.sh --dry-run} (no GPU needed): it lists every step of issue 20's GPU check with its own
 * timeout, the timeouts fit the 8-minute budget, each diagnostic runs what it claims, and it exits 0 without touching
 * the benchmark results. (The cmake probe is left out here: JLENS_GPU_CHECK_PROBE=0.)
 */
class GpuCheckScriptTest {
    static final Pattern STEP = Pattern.compile("(?m)^step (\\S+)\\s+timeout\\s+(\\d+)s\\s+needs (\\S+)\\s+(.*)$");

    @TempDir Path bench;

    record Run(int code, String out) {}

    Run dryRun(String... extra) throws IOException, InterruptedException {
        return script(Map.of(), extra);
    }

    Run script(Map<String, String> env, String... extra) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", "scripts/gpu-check.sh"));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("JLENS_GPU_CHECK_PROBE", "0");
        pb.environment().put("JLENS_BENCH_DIR", bench.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "dry run finished");
        return new Run(p.exitValue(), out);
    }

    private static int timeout(String out, String step) {
        Matcher m = STEP.matcher(out);
        while (m.find()) if (m.group(1).equals(step)) return Integer.parseInt(m.group(2));
        throw new AssertionError("no step " + step + " in " + out);
    }

    @Test
    void dryRunListsEveryStepWithItsTimeoutWithinEightMinutes() throws Exception {
        Run r = dryRun("--dry-run");
        assertEquals(0, r.code(), r.out());
        Map<String, String> cmds = new LinkedHashMap<>();
        int total = 0;
        Matcher m = STEP.matcher(r.out());
        while (m.find()) {
            int t = Integer.parseInt(m.group(2));
            assertTrue(t > 0, m.group());
            total += t;
            cmds.put(m.group(1), m.group(4));
            String needs = m.group(3);
            assertTrue(needs.equals("-") || cmds.containsKey(needs), m.group(1) + " needs " + needs + ", which does not run before it");
        }
        assertEquals(List.of("gpu", "source", "build-cuda", "jar", "models", "gpu-tests", "llama-bench-ngl99", "llama-bench-ot-cpu",
                "capture-ub512", "capture-ub3072", "sched-debug", "capture-slice", "bench-gpu", "compact-tests", "compact-bench", "report"),
                List.copyOf(cmds.keySet()), r.out());
        // issue 20's steps within 8 minutes; the two steps of the device compaction (issue 20, point 2) within 85 s more
        int compaction = timeout(r.out(), "compact-tests") + timeout(r.out(), "compact-bench");
        assertTrue(total - compaction <= 480, "issue 20's steps' timeouts add up to " + (total - compaction) + " s");
        assertTrue(compaction <= 85, "the compaction steps' timeouts add up to " + compaction + " s");
        assertTrue(r.out().contains("timeouts add up to " + total + " s of the 565 s budget"), r.out());
        assertTrue(cmds.get("compact-tests").contains("GpuCompactEncodeTest") && cmds.get("compact-tests").contains("-Djlens.test.sae262k="));
        assertTrue(cmds.get("compact-bench").contains("CompactReadbackBench") && cmds.get("compact-bench").contains("device=GPU"));
        assertTrue(cmds.get("build-cuda").contains("build-native.sh --cuda"));
        assertTrue(cmds.get("gpu-tests").contains("GpuCaptureTest"));
        assertTrue(cmds.get("llama-bench-ngl99").contains("-p 512") && !cmds.get("llama-bench-ngl99").contains(" -ot "));
        assertTrue(cmds.get("llama-bench-ot-cpu").contains("-ot 'blk\\.(1[3-9]|2[0-5])\\.=CPU'"), cmds.get("llama-bench-ot-cpu"));
        assertTrue(cmds.get("capture-ub512").contains("ubatch=512") && cmds.get("capture-ub3072").contains("ubatch=3072"));
        assertTrue(cmds.get("sched-debug").contains("GGML_SCHED_DEBUG=2") && cmds.get("sched-debug").contains("-Djava.util.logging.config.file="),
                "ggml's DEBUG split listing reaches the log only with java.util.logging at ALL: " + cmds.get("sched-debug"));
        assertTrue(cmds.get("models").contains("slice --model") && cmds.get("models").contains("--through-layer 12"));
        assertTrue(cmds.get("capture-slice").contains("-through-12.gguf"));
        assertTrue(cmds.get("bench-gpu").contains("bench.sh --gpu"));
        for (String check : List.of("  gpu: ", "  source: ", "  nvcc: ", "  cuBLAS: ", "  configure: ")) {
            assertTrue(r.out().contains(check), "dry run reports '" + check.trim() + "': " + r.out());
        }
        try (var s = Files.list(bench)) {
            assertTrue(s.findAny().isEmpty(), "a dry run writes nothing without the cmake probe");
        }
    }

    /** The report step reads the steps' JSON results and puts one diagnostics block after the GPU section, replacing it on a rerun. */
    @Test
    void reportWritesOneDiagnosticsBlockAfterTheGpuSectionFromTheResults() throws Exception {
        Path doc = bench.resolve("benchmarks.md");
        Files.writeString(doc, "# B\n<!-- gpu-bench:begin (x) -->\n## GPU\n<!-- gpu-bench:end -->\n\n## After\n");
        Path res = Files.createDirectories(bench.resolve("results-gpu-check"));
        Files.writeString(res.resolve("llama-bench-ngl99.json"), "[{\"n_prompt\": 512, \"avg_ts\": 23843.5}]");
        Files.writeString(res.resolve("capture-ub3072.json"), "{\"tokens\": 3072, \"tokens_per_s\" : 4947.25}");
        Files.writeString(res.resolve("sched-debug.log"), "x\n## SPLIT #0: CUDA0 # 0 inputs\n## SPLIT #1: CPU # 1 inputs\n## SPLIT #0: CUDA0 # 0 inputs\n");
        Map<String, String> env = Map.of("JLENS_GPU_CHECK_DOC", doc.toString());
        for (int i = 0; i < 2; i++) {
            Run r = script(env, "--only", "report");
            assertEquals(0, r.code(), r.out());
        }
        String md = Files.readString(doc);
        assertEquals(1, md.split("<!-- gpu-check:begin", -1).length - 1, md);
        assertTrue(md.indexOf("<!-- gpu-bench:end -->") < md.indexOf("<!-- gpu-check:begin") && md.indexOf("<!-- gpu-check:end -->") < md.indexOf("## After"), md);
        assertTrue(md.contains("| llama-bench pp512 -ngl 99 | 23843.5 |"), md);
        assertTrue(md.contains("| capture layer 12, full model, ubatch 3072 | 4947.25 |"), md);
        assertTrue(md.contains("| capture layer 12, full model, ubatch 512 | n/a"), md);
        assertTrue(md.contains("2 per graph (#0: CUDA0 #1: CPU)."), md);
        assertTrue(md.contains("(1[3-9]\\|2[0-5])"), "the pipe of the -ot regex is escaped in the table: " + md);
        assertEquals(2, script(Map.of(), "--only", "nope").code());
    }

    @Test
    void unknownOptionExitsTwo() throws Exception {
        Run r = dryRun("--fast");
        assertEquals(2, r.code(), r.out());
        assertTrue(r.out().contains("unknown option --fast"), r.out());
    }
}
