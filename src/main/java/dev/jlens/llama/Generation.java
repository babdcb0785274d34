package dev.jlens.llama;

import dev.jlens.bindings.LlamaH;
import dev.jlens.bindings.llama_sampler_chain_params;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Text generation through llama.cpp's sampler chain. */
public final class Generation {
    private Generation() {}

    /**
     * Sampling settings: temperature 0 means greedy; otherwise top-k (0 = off), top-p (1 = off),
     * temperature, then a seeded draw, in llama.cpp's usual chain order.
     */
    public record Params(int maxTokens, float temperature, int topK, float topP, long seed, List<String> stop) {
        public Params {
            if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be >= 1, got " + maxTokens);
            if (!(temperature >= 0) || !Float.isFinite(temperature)) throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
            if (topK < 0) throw new IllegalArgumentException("topK must be >= 0, got " + topK);
            if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
            if (seed < 0 || seed > 0xFFFFFFFFL) throw new IllegalArgumentException("seed must be in [0, 2^32), got " + seed);
            stop = List.copyOf(Objects.requireNonNull(stop, "stop"));
            for (String s : stop) if (s.isEmpty()) throw new IllegalArgumentException("empty stop string");
        }

        public static Params greedy(int maxTokens) { return new Params(maxTokens, 0f, 0, 1f, 0, List.of()); }

        public static Params sampled(int maxTokens, float temperature, int topK, float topP, long seed) {
            return new Params(maxTokens, temperature, topK, topP, seed, List.of());
        }

        public Params withStop(List<String> s) { return new Params(maxTokens, temperature, topK, topP, seed, s); }
    }

    public enum StopReason { MAX_TOKENS, END_OF_GENERATION, STOP_STRING, CONTEXT_FULL }

    /** The continuation (prompt excluded). */
    public record Result(int[] tokens, String text, StopReason stopReason) {}

    /** Receives each generated token as it is produced (piece = its text). */
    @FunctionalInterface
    public interface TokenListener {
        void onToken(int token, String piece);
    }

    /** Generates a continuation of {@code prompt} (token ids, BOS included) on a fresh sequence. */
    public static Result generate(Context ctx, int[] prompt, Params p, TokenListener listener) {
        Objects.requireNonNull(prompt, "prompt");
        if (prompt.length == 0) throw new IllegalArgumentException("empty prompt");
        Vocab vocab = ctx.model().vocab();
        return ctx.exclusive(() -> {
            MemorySegment chain = newChain(p);
            try {
                ctx.clearMemory();
                ctx.decodeSequence(prompt, 0);
                List<Integer> out = new ArrayList<>();
                java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                StopReason reason = StopReason.MAX_TOKENS;
                int pos = prompt.length;
                while (out.size() < p.maxTokens()) {
                    int tok = LlamaH.llama_sampler_sample(chain, ctx.handle(), -1);
                    if (vocab.isEndOfGeneration(tok)) { reason = StopReason.END_OF_GENERATION; break; }
                    out.add(tok);
                    byte[] piece = vocab.pieceBytes(tok);
                    bytes.writeBytes(piece);
                    if (listener != null) listener.onToken(tok, new String(piece, java.nio.charset.StandardCharsets.UTF_8));
                    String text = bytes.toString(java.nio.charset.StandardCharsets.UTF_8);
                    if (p.stop().stream().anyMatch(text::endsWith)) { reason = StopReason.STOP_STRING; break; }
                    if (out.size() >= p.maxTokens()) break;
                    if (pos >= ctx.params().nCtx()) { reason = StopReason.CONTEXT_FULL; break; }
                    ctx.decodeSequence(new int[] {tok}, pos++);
                }
                int[] toks = out.stream().mapToInt(Integer::intValue).toArray();
                return new Result(toks, bytes.toString(java.nio.charset.StandardCharsets.UTF_8), reason);
            } finally {
                LlamaH.llama_sampler_free(chain);
            }
        });
    }

    private static MemorySegment newChain(Params p) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment cp = LlamaH.llama_sampler_chain_default_params(a);
            llama_sampler_chain_params.no_perf(cp, true);
            MemorySegment chain = LlamaH.llama_sampler_chain_init(cp);
            if (chain.equals(MemorySegment.NULL)) throw new LlamaException("llama_sampler_chain_init", 0, "no sampler chain");
            if (p.temperature() == 0f) {
                LlamaH.llama_sampler_chain_add(chain, LlamaH.llama_sampler_init_greedy());
            } else {
                if (p.topK() > 0) LlamaH.llama_sampler_chain_add(chain, LlamaH.llama_sampler_init_top_k(p.topK()));
                if (p.topP() < 1f) LlamaH.llama_sampler_chain_add(chain, LlamaH.llama_sampler_init_top_p(p.topP(), 1));
                LlamaH.llama_sampler_chain_add(chain, LlamaH.llama_sampler_init_temp(p.temperature()));
                LlamaH.llama_sampler_chain_add(chain, LlamaH.llama_sampler_init_dist((int) p.seed()));
            }
            return chain;
        }
    }
}
