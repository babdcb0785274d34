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

    /** All cores, 512-wide tiles, 32-token blocks (32 x 512 x 4 B = 64 KiB of accumulators). */
    public static EncoderOptions defaults() {
        return new EncoderOptions(Runtime.getRuntime().availableProcessors(), 512, 32);
    }

    public EncoderOptions withThreads(int n) { return new EncoderOptions(n, tileWidth, tokenBlock); }

    public EncoderOptions withTile(int width) { return new EncoderOptions(threads, width, tokenBlock); }
}
