package dev.jlens.sae;

/**
 * Tuning of the Java encoders.
 *
 * @param threads worker threads over column tiles
 * @param tileWidth d_sae columns per tile: tokenBlock x tileWidth floats of pre-activations stay in cache
 * @param tokenBlock tokens encoded together (each weight load is reused for all of them)
 */
public record EncoderOptions(int threads, int tileWidth, int tokenBlock) {
    public EncoderOptions {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1: " + threads);
        if (tileWidth < 1) throw new IllegalArgumentException("tileWidth must be >= 1: " + tileWidth);
        if (tokenBlock < 1) throw new IllegalArgumentException("tokenBlock must be >= 1: " + tokenBlock);
    }

    /**
     * All cores, 512-wide tiles, 256-token blocks: each tile's W panel is packed once per block and reused by
     * every token of it (measured on 2 cores, 16k f32: 32-token blocks 46 GFLOP/s, 128 76, 256 93); the
     * block's accumulators are 256 x 512 x 4 B = 512 KiB per tile task.
     */
    public static EncoderOptions defaults() {
        return new EncoderOptions(Runtime.getRuntime().availableProcessors(), 512, 256);
    }

    public EncoderOptions withThreads(int n) { return new EncoderOptions(n, tileWidth, tokenBlock); }

    public EncoderOptions withTile(int width) { return new EncoderOptions(threads, width, tokenBlock); }
}
