package dev.jlens.atlas;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which windows the second pass computes: per SAE, per context id, the (feature, position) pairs of the
 * examples shown for that context. Built from the merged statistics (top-k and quantile examples of every
 * fired feature), so every run - embedded or distributed - asks for the same windows.
 */
public final class WindowRequests implements Serializable {
    private final List<TreeMap<Long, List<int[]>>> perSae;

    private WindowRequests(List<TreeMap<Long, List<int[]>>> perSae) {
        this.perSae = perSae;
    }

    /** The windows of the examples {@link AtlasWriter} will show for each SAE's statistics. */
    public static WindowRequests of(List<FeatureStats> stats, AtlasSettings s) {
        List<TreeMap<Long, List<int[]>>> all = new ArrayList<>();
        for (FeatureStats st : stats) {
            TreeMap<Long, List<int[]>> m = new TreeMap<>();
            for (int f : st.firedFeatures()) {
                List<FeatureStats.Example> ex = new ArrayList<>(st.top(f));
                for (List<FeatureStats.Example> q : st.quantiles(f, s.quantileIntervals(), s.quantileExamples())) ex.addAll(q);
                TreeSet<Long> seen = new TreeSet<>();
                for (FeatureStats.Example e : ex) {
                    if (seen.add(e.context())) m.computeIfAbsent(e.context(), k -> new ArrayList<>()).add(new int[] {f, e.position()});
                }
            }
            all.add(m);
        }
        return new WindowRequests(all);
    }

    public int saes() { return perSae.size(); }

    /** Whether any SAE wants a window from this context. */
    public boolean wants(long context) {
        for (TreeMap<Long, List<int[]>> m : perSae) if (m.containsKey(context)) return true;
        return false;
    }

    /** SAE {@code sae}'s (feature, position) requests in this context (empty when none). */
    public List<int[]> requests(int sae, long context) {
        return perSae.get(sae).getOrDefault(context, List.of());
    }

    /** Distinct contexts asked for, over all SAEs. */
    public long contexts() {
        TreeSet<Long> all = new TreeSet<>();
        for (TreeMap<Long, List<int[]>> m : perSae) all.addAll(m.keySet());
        return all.size();
    }

    /** Computed windows, per SAE, keyed by (context, feature). Mergeable by {@link #putAll}. */
    public static final class Results implements Serializable {
        private final List<Map<Long, Map<Integer, Window>>> perSae = new ArrayList<>();

        public Results(int saes) {
            for (int i = 0; i < saes; i++) perSae.add(new HashMap<>());
        }

        public void put(int sae, long context, int feature, Window w) {
            perSae.get(sae).computeIfAbsent(context, k -> new HashMap<>()).put(feature, w);
        }

        public Window get(int sae, long context, int feature) {
            Map<Integer, Window> m = perSae.get(sae).get(context);
            return m == null ? null : m.get(feature);
        }

        public void putAll(Results o) {
            if (o.perSae.size() != perSae.size()) throw new IllegalArgumentException("window results of " + o.perSae.size() + " SAEs, expected " + perSae.size());
            for (int i = 0; i < perSae.size(); i++) {
                for (Map.Entry<Long, Map<Integer, Window>> e : o.perSae.get(i).entrySet()) {
                    perSae.get(i).computeIfAbsent(e.getKey(), k -> new HashMap<>()).putAll(e.getValue());
                }
            }
        }
    }
}
