package dev.jlens.toy;

/**
 * Gemma 2 hyper-parameters as llama.cpp's gemma2 reads them from GGUF. Layer {@code il} uses the
 * sliding window when {@code il % 2 == 0} (llama_model_gemma2 calls set_swa_pattern(2), so
 * is_swa = il % 2 &lt; 1), and a key at p0 is visible from p1 only if {@code p1 - p0 < slidingWindow}
 * (llama_hparams::is_masked_swa, LLAMA_SWA_TYPE_STANDARD).
 */
public record Gemma2Config(
        int nLayer, int nEmbd, int nHead, int nHeadKv, int headDim, int nFf, int nVocab, int contextLength,
        float rmsEps, float attnSoftcap, float finalSoftcap, int slidingWindow, float ropeBase) {

    public static final int SWA_PERIOD = 2;

    public Gemma2Config {
        positive("nLayer", nLayer);
        positive("nEmbd", nEmbd);
        positive("nHead", nHead);
        positive("nHeadKv", nHeadKv);
        positive("headDim", headDim);
        positive("nFf", nFf);
        positive("nVocab", nVocab);
        positive("contextLength", contextLength);
        positive("slidingWindow", slidingWindow);
        if (nHead % nHeadKv != 0) throw new IllegalArgumentException("nHead " + nHead + " is not a multiple of nHeadKv " + nHeadKv);
        if (headDim % 2 != 0) throw new IllegalArgumentException("headDim " + headDim + " must be even for NEOX RoPE");
        finite("rmsEps", rmsEps);
        finite("attnSoftcap", attnSoftcap);
        finite("finalSoftcap", finalSoftcap);
        finite("ropeBase", ropeBase);
        if (!(rmsEps > 0)) throw new IllegalArgumentException("rmsEps " + rmsEps + " must be > 0");
        if (!(attnSoftcap > 0)) throw new IllegalArgumentException("attnSoftcap " + attnSoftcap + " must be > 0");
        if (!(finalSoftcap > 0)) throw new IllegalArgumentException("finalSoftcap " + finalSoftcap + " must be > 0");
        if (!(ropeBase > 1)) throw new IllegalArgumentException("ropeBase " + ropeBase + " must be > 1");
    }

    /** 14 layers, d=64, window 8 (small so that prompts in tests cross it). */
    public static Gemma2Config tiny() {
        return new Gemma2Config(14, 64, 4, 2, 16, 128, 512, 512, 1e-6f, 50f, 30f, 8, 10000f);
    }

    /** The shape of google/gemma-2-2b. */
    public static Gemma2Config gemma2_2b() {
        return new Gemma2Config(26, 2304, 8, 4, 256, 9216, 256000, 8192, 1e-6f, 50f, 30f, 4096, 10000f);
    }

    public Gemma2Config withNLayer(int n) {
        return new Gemma2Config(n, nEmbd, nHead, nHeadKv, headDim, nFf, nVocab, contextLength, rmsEps, attnSoftcap, finalSoftcap, slidingWindow, ropeBase);
    }

    public Gemma2Config withNVocab(int n) {
        return new Gemma2Config(nLayer, nEmbd, nHead, nHeadKv, headDim, nFf, n, contextLength, rmsEps, attnSoftcap, finalSoftcap, slidingWindow, ropeBase);
    }

    public Gemma2Config withSlidingWindow(int n) {
        return new Gemma2Config(nLayer, nEmbd, nHead, nHeadKv, headDim, nFf, nVocab, contextLength, rmsEps, attnSoftcap, finalSoftcap, n, ropeBase);
    }

    /** True for the layers that use the sliding window (even layers, as in llama.cpp's gemma2). */
    public boolean isSwaLayer(int il) {
        if (il < 0 || il >= nLayer) throw new IndexOutOfBoundsException("layer " + il + " of " + nLayer);
        return il % SWA_PERIOD < SWA_PERIOD - 1;
    }

    /** f_attention_scale: llama.cpp uses n_embd/n_head only for the 27B (46 layers), else head_dim. */
    public double attentionScale() {
        return nLayer == 46 ? 1.0 / Math.sqrt((float) (nEmbd / nHead)) : 1.0 / Math.sqrt((float) headDim);
    }

    public int qDim() { return nHead * headDim; }

    public int kvDim() { return nHeadKv * headDim; }

    private static void positive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(name + " = " + v + " must be positive");
    }

    private static void finite(String name, float v) {
        if (!Float.isFinite(v)) throw new IllegalArgumentException(name + " = " + v + " must be finite");
    }
}
