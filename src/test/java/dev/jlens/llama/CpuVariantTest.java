package dev.jlens.llama;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The portable build (what the jar carries): no CPU code is linked into libjlens-ggml, the CPU backend is one
 * module per x86 feature level, and the one running is the best this CPU supports. The expected variant is
 * computed independently from /proc/cpuinfo with ggml's rule (ggml-cpu/arch/x86/cpu-feats.cpp: a variant scores 0
 * when the CPU lacks one of its features, else 1 plus a fixed weight per feature; the highest score is loaded).
 */
class CpuVariantTest {
    /** The x86 variants of the pinned ggml (ggml/src/CMakeLists.txt, GGML_CPU_ALL_VARIANTS) and their features. */
    static final Map<String, List<String>> VARIANTS = new LinkedHashMap<>();
    static {
        VARIANTS.put("x64", List.of());
        VARIANTS.put("sse42", List.of("SSE42"));
        VARIANTS.put("sandybridge", List.of("SSE42", "AVX"));
        VARIANTS.put("ivybridge", List.of("SSE42", "AVX", "F16C"));
        VARIANTS.put("piledriver", List.of("SSE42", "AVX", "F16C", "FMA"));
        VARIANTS.put("haswell", List.of("SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2"));
        VARIANTS.put("skylakex", List.of("SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512"));
        VARIANTS.put("cannonlake", List.of("SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI"));
        VARIANTS.put("cascadelake", List.of("SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VNNI"));
        VARIANTS.put("icelake", List.of("SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI", "AVX512_VNNI"));
        VARIANTS.put("cooperlake", List.of("SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VNNI", "AVX512_BF16"));
        VARIANTS.put("zen4", List.of("SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16"));
        VARIANTS.put("alderlake", List.of("SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX_VNNI"));
        VARIANTS.put("sapphirerapids", List.of("SSE42", "AVX", "F16C", "FMA", "AVX2", "BMI2", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16", "AMX_INT8"));
    }
    /** ggml's score weight of each feature, and the /proc/cpuinfo flags it needs. */
    static final Map<String, Integer> WEIGHT = Map.ofEntries(Map.entry("FMA", 1), Map.entry("F16C", 1 << 1), Map.entry("SSE42", 1 << 2),
            Map.entry("BMI2", 1 << 3), Map.entry("AVX", 1 << 4), Map.entry("AVX2", 1 << 5), Map.entry("AVX_VNNI", 1 << 6),
            Map.entry("AVX512", 1 << 7), Map.entry("AVX512_VBMI", 1 << 8), Map.entry("AVX512_BF16", 1 << 9),
            Map.entry("AVX512_VNNI", 1 << 10), Map.entry("AMX_INT8", 1 << 11));
    static final Map<String, List<String>> FLAGS = Map.ofEntries(Map.entry("FMA", List.of("fma")), Map.entry("F16C", List.of("f16c")),
            Map.entry("SSE42", List.of("sse4_2")), Map.entry("BMI2", List.of("bmi2")), Map.entry("AVX", List.of("avx")),
            Map.entry("AVX2", List.of("avx2")), Map.entry("AVX_VNNI", List.of("avx_vnni")),
            Map.entry("AVX512", List.of("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw")),
            Map.entry("AVX512_VBMI", List.of("avx512vbmi")), Map.entry("AVX512_BF16", List.of("avx512_bf16")),
            Map.entry("AVX512_VNNI", List.of("avx512_vnni")), Map.entry("AMX_INT8", List.of("amx_int8")));

    static int score(List<String> features, Set<String> cpuFlags) {
        int s = 1;
        for (String f : features) {
            if (!cpuFlags.containsAll(FLAGS.get(f))) return 0;
            s += WEIGHT.get(f);
        }
        return s;
    }

    static Set<String> cpuFlags() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("flags")) return new TreeSet<>(Arrays.asList(line.substring(line.indexOf(':') + 1).strip().split("\\s+")));
        }
        throw new AssertionError("no flags line in /proc/cpuinfo");
    }

    @Test
    void theBestCpuVariantForThisMachineIsTheOneRunning() throws IOException {
        NativeLibrary lib = NativeLibrary.load();
        List<String> modules = NativeLibrary.cpuModules(lib.directory());
        assumeTrue(!modules.isEmpty(), "the loaded build in " + lib.directory() + " is a --native build (one linked CPU backend): nothing to choose");
        assertFalse(Files.exists(lib.directory().resolve(NativeLibrary.LINKED_CPU)), "a portable build links no CPU backend");
        // every variant of the pinned ggml was built, and nothing else
        assertEquals(VARIANTS.keySet().stream().map(v -> "libggml-cpu-" + v + ".so").sorted().toList(), modules);

        Set<String> flags = cpuFlags();
        String expected = VARIANTS.entrySet().stream().max(java.util.Comparator.comparingInt(e -> score(e.getValue(), flags))).orElseThrow().getKey();
        System.out.println("cpu flags: " + VARIANTS.values().stream().flatMap(List::stream).distinct()
                .filter(f -> flags.containsAll(FLAGS.get(f))).collect(Collectors.joining(" ")) + " -> expected " + expected
                + ", running " + lib.cpuBackend());
        assertNotNull(lib.cpuBackend(), "no libggml-cpu-*.so from " + lib.directory() + " is mapped");
        assertEquals(lib.directory().toRealPath().resolve("libggml-cpu-" + expected + ".so"), lib.cpuBackend());
        // exactly one CPU module is mapped: ggml scores the others with dlopen + dlclose
        long mapped = Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.matches(".*/libggml-cpu-[^/]*\\.so$"))
                .map(l -> l.substring(l.indexOf('/'))).distinct().count();
        assertEquals(1, mapped, "CPU backend modules mapped");
        // and it does the work: the system info lists the features of that variant
        String info = lib.systemInfo();
        if (VARIANTS.get(expected).contains("AVX2")) assertTrue(info.contains("AVX2 = 1"), info);
    }

    @Test
    void aFolderWithoutACpuBackendIsRefusedBeforeLoading(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        for (String lib : NativeLibrary.LIBS) Files.writeString(tmp.resolve(lib), "x");
        LlamaException e = assertThrows(LlamaException.class, () -> NativeLibrary.checkDir(tmp, "test"));
        assertTrue(e.getMessage().contains("no CPU backend") && e.getMessage().contains("libggml-cpu-<variant>.so"), e.getMessage());
        Files.writeString(tmp.resolve("libggml-cpu-haswell.so"), "x");
        assertEquals(tmp.toAbsolutePath(), NativeLibrary.checkDir(tmp, "test"));
    }

    @Test
    void aBrokenPackagedListIsABrokenJarNotACrash() {
        String h = "ab".repeat(32);
        assertEquals(List.of(new NativeLibrary.Packaged("libjlens-ggml.so.0", h), new NativeLibrary.Packaged("libggml-cpu-x64.so", h)),
                NativeLibrary.parseList(h + "  libjlens-ggml.so.0\n" + h + "  libggml-cpu-x64.so\n"));
        for (String bad : List.of("nohash libjlens-ggml.so.0", h + "  ../evil.so", h + "  libx.so extra", h + "  /abs/libx.so")) {
            LlamaException e = assertThrows(LlamaException.class, () -> NativeLibrary.parseList(bad));
            assertTrue(e.getMessage().contains("broken jlens jar"), e.getMessage());
        }
    }
}
