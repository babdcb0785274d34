package dev.jlens.study;

import dev.jlens.activations.Numerics;

import dev.jlens.util.Json;

import dev.jlens.formats.GgmlType;
import dev.jlens.llama.Context;
import dev.jlens.toy.Gemma2Config;
import dev.jlens.toy.ToyModels;
import dev.jlens.toy.Vocabulary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The numerics recorded in results.json and capture.json, and the defaults they come from (no native code). */
class NumericsTest {
    @TempDir Path tmp;

    @Test
    void defaultsAreAnF32KvCacheWithoutFlashAttentionAndFastKvIsF16() {
        Context.Params d = Context.Params.defaults();
        assertTrue(d.f32KvCache(), "capture and scoring default to an f32 K/V cache");
        assertFalse(d.flashAttn(), "flash attention (f16 internally on CPU) is off by default");
        assertFalse(d.fastKv());
        Context.Params fast = d.withFastKv(true);
        assertFalse(fast.f32KvCache());
        assertFalse(fast.flashAttn());
        assertTrue(fast.fastKv());
        assertEquals(d, fast.withFastKv(false));
        assertTrue(d.withFlashAttn(true).withFastKv(true).fastKv() && !d.withFlashAttn(true).withFastKv(true).flashAttn());
    }

    @Test
    void numericsNameTheCacheTypeAndTheFilesMatrixTypes() throws IOException {
        Gemma2Config c = Gemma2Config.tiny().withNVocab(512);
        Vocabulary v = Vocabulary.build(List.of("the", "capital", "of", "France"), c.nVocab());
        for (GgmlType t : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0}) {
            Path p = tmp.resolve("tiny-" + t + ".gguf");
            ToyModels.write(p, c, v, 7, t);
            // norms stay F32 in every file, but they are vectors: only the matrices name the weight type
            assertEquals(t.name(), Numerics.weightTypes(p), t.name());
            Numerics n = Numerics.of(Context.Params.defaults(), p);
            assertEquals(new Numerics("f32", false, t.name()), n);
            assertEquals("f16", Numerics.of(Context.Params.defaults().withFastKv(true), p).kvCacheType());
        }
        assertThrows(IOException.class, () -> Numerics.weightTypes(tmp.resolve("absent.gguf")));
    }

    @Test
    void numericsRoundTripThroughJsonAndOldFilesReadAsNull() throws IOException {
        Numerics n = new Numerics("f16", false, "Q4_K+Q6_K");
        String json = Json.FILES.writeValueAsString(n); // as capture.json and results.json write it
        assertTrue(json.contains("\"kv_cache_type\" : \"f16\"") && json.contains("\"weight_type\" : \"Q4_K+Q6_K\""), json);
        assertEquals(n, Json.FILES.readValue(json, Numerics.class));
    }

    @Test
    void fastKvRunsLandInTheirOwnRunFolder() throws IOException {
        Gemma2Config c = Gemma2Config.tiny().withNVocab(512);
        Path model = tmp.resolve("m.gguf");
        ToyModels.write(model, c, Vocabulary.build(List.of("a"), c.nVocab()), 1, GgmlType.F32);
        dev.jlens.api.Experiment.Settings s = dev.jlens.api.Experiment.Settings.builder().threads(2).cacheDir(tmp.resolve("cache")).build();
        ExperimentConfig f32 = new ExperimentConfig(model, "c", "f", tmp.resolve("o"), s);
        ExperimentConfig f16 = new ExperimentConfig(model, "c", "f", tmp.resolve("o"), s.toBuilder().fastKv(true).build());
        assertFalse(RunFolders.forConfig(tmp, "france", f32).equals(RunFolders.forConfig(tmp, "france", f16)));
        assertFalse(ConceptExperiment.captureParams(f32).fastKv());
        assertTrue(ConceptExperiment.captureParams(f16).fastKv());
    }
}
