package dev.jlens.llama;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * llama.cpp pre-faults the whole model mapping; after {@link Model#load} only what a capture reads may be
 * resident, and an early-exit capture does not read the blocks above its layer. Measured on the model's own mapping in /proc/self/smaps (other threads' memory does not count).
 */
class MappedPagesTest {
    @Test
    void anEarlyExitCaptureKeepsTheBlocksAboveItsLayerOutOfMemory() throws IOException {
        Assumptions.assumeTrue(Smaps.available(), "needs Linux /proc/self/smaps");
        Path gguf = TinyModel.deep(); // 26 blocks
        long size = Files.size(gguf);
        try (Model m = Model.load(gguf);
             Context ctx = m.newContext(Context.Params.defaults().withCtx(256).withThreads(2))) {
            long afterLoad = Smaps.mappedRss(gguf);
            List<int[]> prompts = List.of(m.vocab().tokenize("the old cat sat on the new mat"), m.vocab().tokenize("my friend likes long walks"));
            try (Activations a = ctx.capture(prompts, Context.CaptureSpec.layer(12))) {
                assertTrue(a.rows() > 0);
            }
            long afterCapture = Smaps.mappedRss(gguf);
            try (Activations a = ctx.capture(prompts, new Context.CaptureSpec(new int[] {12}, false))) { // full forward
                assertTrue(a.rows() > 0);
            }
            long afterFull = Smaps.mappedRss(gguf);
            System.out.printf("model mapping %d KiB: resident after load %d KiB, after a layer-12 capture %d KiB, after a full forward %d KiB%n",
                    size >> 10, afterLoad >> 10, afterCapture >> 10, afterFull >> 10);
            assertTrue(afterLoad < size / 20, "resident right after load: " + afterLoad + " of " + size);
            // blocks 13..25 are about a quarter of this file; the kernel's fault-around maps up to 64 KiB around each
            // touched page, which inflates the small tensors of a toy model (on the 2B-shaped Q8_0 file a layer-12
            // capture leaves 1026 of 2.8 GB resident)
            assertTrue(afterFull - afterCapture > size / 5,
                    "the capture must leave blocks 13..25 unread: resident " + afterCapture + " after it, " + afterFull + " after a full forward");
        }
    }

    @Test
    void mappingsAreFoundByRealPath() throws IOException {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs Linux /proc/self/maps");
        Path gguf = TinyModel.deep();
        try (Model m = Model.load(gguf)) {
            List<MappedPages.Mapping> maps = MappedPages.mappingsOf(gguf);
            assertTrue(maps.stream().anyMatch(x -> x.perms().equals("r--s")), "llama.cpp maps the model read-only shared: " + maps);
        }
        assertTrue(MappedPages.mappingsOf(gguf).isEmpty(), "closing the model unmaps it");
    }
}
