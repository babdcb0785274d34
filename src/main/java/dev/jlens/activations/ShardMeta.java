package dev.jlens.activations;

import java.util.List;

/**
 * One shard of captured activations: prompts [promptFrom, promptTo) in global indices (target prompts first, then
 * control), {@code rows} token rows of width {@code nEmbd} in prompt then position order, each prompt's token ids, and
 * the SHA-256 of the shard's npy ("" where the shard is a capture folder, checked by its own files). Stored as
 * {@code shard-NNNNN.json} by {@link ActivationCache}; the field names are that file's keys.
 */
public record ShardMeta(int shard, int promptFrom, int promptTo, long rows, int nEmbd, String sha256, List<int[]> tokens) {}
