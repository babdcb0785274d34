package dev.jlens.activations;

import dev.jlens.analysis.PromptSet;

import java.util.List;
import java.util.Objects;

/**
 * Activations ready for analysis: where they are, the prompts they belong to (target first, then control),
 * and what produced them.
 */
public record Captured(ActivationSource source, List<PromptSet.Prompt> prompts, int nTarget, String targetSet, String controlSet,
                       int bosTokenId, String model, String modelSha256, String architecture, String llamaCppCommit, int shardsComputed,
                       Numerics numerics) {
    public Captured {
        Objects.requireNonNull(source, "source");
        prompts = List.copyOf(prompts);
        if (nTarget < 2 || prompts.size() - nTarget < 2) throw new IllegalArgumentException("need at least 2 target and 2 control prompts");
    }
}
