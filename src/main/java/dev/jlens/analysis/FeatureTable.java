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
    // indexed by feature id (ids are dense, < d_sae): a HashMap<Integer, Column> here was 90% of the contrast
    // stage's samples in a JFR profile of the 400-prompt 262k run
    private Column[] columns = new Column[1024];
    private int activeCount;
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
                int f = prompt.featureAt(i);
                if (f >= columns.length) columns = Arrays.copyOf(columns, Math.max(f + 1, columns.length * 2));
                Column c = columns[f];
                if (c == null) {
                    c = columns[f] = new Column();
                    activeCount++;
                }
                c.add(row, v);
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
        int[] out = new int[activeCount];
        int n = 0;
        for (int f = 0; f < columns.length; f++) if (columns[f] != null) out[n++] = f;
        return out;
    }

    public int activeFeatureCount() { return activeCount; }

    public boolean isActive(int feature) { return column(feature) != null; }

    private Column column(int feature) {
        return feature >= 0 && feature < columns.length ? columns[feature] : null;
    }

    /** Number of prompts on which {@code feature} fired. */
    public int fireCount(int feature) {
        Column c = column(feature);
        return c == null ? 0 : c.size;
    }

    /** Dense per-row activations of {@code feature} (0 where it did not fire); all zeros if never active. */
    public double[] values(int feature) {
        double[] out = new double[labels.size()];
        Column c = column(feature);
        if (c != null) {
            for (int i = 0; i < c.size; i++) out[c.rows[i]] = c.values[i];
        }
        return out;
    }

    /** Rows where {@code feature} fired, ascending (a copy). */
    public int[] firedRows(int feature) {
        Column c = column(feature);
        return c == null ? new int[0] : Arrays.copyOf(c.rows, c.size);
    }

    /**
     * Copies the fired rows of {@code feature} (ascending) and their values into the caller's buffers, which must
     * hold {@link #fireCount(int)} elements; returns that count. The allocation-free form of
     * {@link #firedRows(int)} / {@link #firedValues(int)} for loops over every feature.
     */
    public int copyFired(int feature, int[] rows, float[] values) {
        Column c = column(feature);
        if (c == null) return 0;
        System.arraycopy(c.rows, 0, rows, 0, c.size);
        System.arraycopy(c.values, 0, values, 0, c.size);
        return c.size;
    }

    /** Values at {@link #firedRows(int)} (a copy, same order). */
    public float[] firedValues(int feature) {
        Column c = column(feature);
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
