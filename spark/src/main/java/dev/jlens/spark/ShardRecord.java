package dev.jlens.spark;

import dev.jlens.atlas.AtlasContext;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * One whole shard of the corpus as it travels to an executor: its index in the shard order and its contexts with
 * their global indices ({@link dev.jlens.atlas.ShardWork} cuts its decode batches from the whole shard, so every
 * executor decodes the same batches).
 *
 * @param shard  0-based shard index
 * @param index  each context's index in the corpus order, ascending
 * @param ids    context ids
 * @param tokens each context's tokens, BOS first
 */
record ShardRecord(int shard, long[] index, long[] ids, int[][] tokens) implements Serializable {
    ShardRecord {
        if (shard < 0) throw new IllegalArgumentException("negative shard index " + shard);
        if (ids.length == 0 || ids.length != tokens.length || ids.length != index.length) {
            throw new IllegalArgumentException("shard " + shard + ": " + index.length + " indices, " + ids.length + " ids, " + tokens.length + " token lists");
        }
    }

    static ShardRecord of(int shard, List<AtlasContext> contexts) {
        long[] index = new long[contexts.size()];
        long[] ids = new long[contexts.size()];
        int[][] tokens = new int[contexts.size()][];
        for (int i = 0; i < ids.length; i++) {
            AtlasContext c = contexts.get(i);
            if (i > 0 && c.index() <= index[i - 1]) throw new IllegalArgumentException("shard " + shard + ": context " + c.id() + " has index " + c.index() + " after " + index[i - 1]);
            index[i] = c.index();
            ids[i] = c.id();
            tokens[i] = c.tokens();
        }
        return new ShardRecord(shard, index, ids, tokens);
    }

    List<AtlasContext> contexts() {
        List<AtlasContext> l = new ArrayList<>(ids.length);
        for (int i = 0; i < ids.length; i++) l.add(new AtlasContext(ids[i], index[i], tokens[i]));
        return l;
    }

    long tokenCount() {
        long n = 0;
        for (int[] t : tokens) n += t.length;
        return n;
    }
}
