package dev.jlens.analysis;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Streams prompts' sparse activations and keeps, per feature that fired on at least one prompt, the list
 * of (row, value) pairs where it fired. Memory is bounded by the total number of activations, never by the
 * SAE width: a 262k-wide dictionary where 3k features ever fire costs 3k short lists.
 *
 * <p>Rows are numbered in arrival order; {@link #promptIndex(int)} maps a row back to the caller's prompt
 * index. A feature "fires" when its value is {@code > 0}; listed zeros are dropped. Not thread-safe.
 */
public final class FeatureTable {
    private final List<Label> labels = new ArrayList<>();
    private final List<String> facets = new ArrayList<>();
    private final List<Integer> promptIndices = new ArrayList<>();
    private final Set<Integer> seenPrompts = new HashSet<>();
    private final Map<Integer, Column> columns = new HashMap<>();
    private int targetCount;
    private long activationCount;

    /** Sparse column of one feature: rows ascending (rows arrive in order). */
    private static final class Column {
        int[] rows = new int[4];
        float[] values = new float[4];
        int size;

        void add(int row, float value) {
            if (size == rows.length) {
                rows = Arrays.copyOf(rows, size * 2);
                values = Arrays.copyOf(values, size * 2);
            }
            rows[size] = row;
            values[size] = value;
            size++;
        }
    }

    /** Appends one prompt as the next row. Prompt indices must be unique within the table. */
    public void add(PromptActivations prompt) {
        Objects.requireNonNull(prompt, "prompt");
        if (!seenPrompts.add(prompt.promptIndex())) {
            throw new IllegalArgumentException("prompt index " + prompt.promptIndex() + " added twice");
        }
        int row = labels.size();
        labels.add(prompt.label());
        facets.add(prompt.facet());
        promptIndices.add(prompt.promptIndex());
        if (prompt.label() == Label.TARGET) targetCount++;
        for (int i = 0; i < prompt.size(); i++) {
            float v = prompt.valueAt(i);
            if (v > 0f) {
                columns.computeIfAbsent(prompt.featureAt(i), k -> new Column()).add(row, v);
                activationCount++;
            }
        }
    }

    public int promptCount() { return labels.size(); }

    public int targetCount() { return targetCount; }

    public int controlCount() { return labels.size() - targetCount; }

    /** Total stored (feature, prompt) activations. */
    public long activationCount() { return activationCount; }

    public Label label(int row) { return labels.get(row); }

    /** Facet of the prompt in {@code row}, or null. */
    public String facet(int row) { return facets.get(row); }

    public int promptIndex(int row) { return promptIndices.get(row); }

    /** Features that fired on at least one prompt, ascending. */
    public int[] activeFeatures() {
        return columns.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    public int activeFeatureCount() { return columns.size(); }

    public boolean isActive(int feature) { return columns.containsKey(feature); }

    /** Number of prompts on which {@code feature} fired. */
    public int fireCount(int feature) {
        Column c = columns.get(feature);
        return c == null ? 0 : c.size;
    }

    /** Dense per-row activations of {@code feature} (0 where it did not fire); all zeros if never active. */
    public double[] values(int feature) {
        double[] out = new double[labels.size()];
        Column c = columns.get(feature);
        if (c != null) {
            for (int i = 0; i < c.size; i++) out[c.rows[i]] = c.values[i];
        }
        return out;
    }

    /** Rows where {@code feature} fired, ascending (a copy). */
    public int[] firedRows(int feature) {
        Column c = columns.get(feature);
        return c == null ? new int[0] : Arrays.copyOf(c.rows, c.size);
    }

    /** Values at {@link #firedRows(int)} (a copy, same order). */
    public float[] firedValues(int feature) {
        Column c = columns.get(feature);
        return c == null ? new float[0] : Arrays.copyOf(c.values, c.size);
    }

    /** Distinct non-null facet labels of the target prompts, sorted. */
    public List<String> targetFacets() {
        TreeSet<String> out = new TreeSet<>();
        for (int r = 0; r < labels.size(); r++) {
            if (labels.get(r) == Label.TARGET && facets.get(r) != null) out.add(facets.get(r));
        }
        return List.copyOf(out);
    }
}
