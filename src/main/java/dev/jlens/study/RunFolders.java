package dev.jlens.study;

import dev.jlens.util.FileHashes;

import java.io.IOException;
import java.nio.file.Path;

/** Run folders keyed by a hash of the experiment's config, so the same config always lands in the same folder. */
public final class RunFolders {
    private RunFolders() {}

    public static Path forConfig(Path root, String name, ExperimentConfig cfg) throws IOException {
        String key = cfg.model().toAbsolutePath().normalize() + "|" + FileHashes.sha256(cfg.model(), cfg.cacheDir()) + "|" + cfg.coarseSae() + "|" + cfg.fineSae()
                + "|" + cfg.targetPrompts() + "|" + cfg.controlPrompts() + "|" + cfg.layer() + "|" + cfg.aggregate() + "|" + cfg.thresholds()
                + "|" + cfg.anchors() + "|" + cfg.fineCandidates() + "|" + cfg.minActivation() + "|" + cfg.permutations() + "|" + cfg.seed()
                + "|" + cfg.encoder() + "|" + cfg.nCtx() + "|" + cfg.nSeqMax() + (cfg.fastKv() ? "|fast-kv" : "");
        return root.resolve(name + "-" + FileHashes.sha256(key).substring(0, 12));
    }
}
