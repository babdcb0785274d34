package dev.jlens.report;

import dev.jlens.api.Classification;
import dev.jlens.api.FeaturePair;

import dev.jlens.formats.AtomicFiles;
import dev.jlens.report.ReportModel.CosineMatrix;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYBoxAnnotation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.geom.Ellipse2D;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Static figures for papers and quick looks: {@code heatmap.png} (decoder cosine, anchors x fine features)
 * and {@code scatter.png} (activation correlation vs decoder cosine with the match thresholds), drawn with
 * JFreeChart through Java2D without a display.
 */
public final class PngFigures {
    private static final System.Logger LOG = System.getLogger(PngFigures.class.getName());

    public static final String HEATMAP = "heatmap.png";
    public static final String SCATTER = "scatter.png";

    static {
        // Java2D must not look for a display; this only takes effect before AWT starts, which is why it is
        // set when this class loads (an explicit -Djava.awt.headless=... from the user wins)
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private static final Map<Classification, Color> CLASS_COLORS = new EnumMap<>(Map.of(
            Classification.MATCH, new Color(0xd62728),
            Classification.CO_OCCURRING, new Color(0xff7f0e),
            Classification.GEOMETRIC_ONLY, new Color(0x1f77b4),
            Classification.UNRELATED, new Color(0x9a9a9a)));
    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

    private PngFigures() {}

    /** Writes both figures into {@code outDir} atomically and returns their paths (heatmap, scatter). */
    public static List<Path> write(Path outDir, ReportModel model) throws IOException {
        Objects.requireNonNull(outDir, "outDir");
        Objects.requireNonNull(model, "model");
        Path heat = outDir.resolve(HEATMAP);
        Path scat = outDir.resolve(SCATTER);
        CosineMatrix cm = model.cosine();
        int w = Math.clamp(140L + 24L * cm.fines().length, 800, 4000);
        int h = Math.clamp(180L + 28L * cm.anchors().length, 420, 3000);
        JFreeChart heatChart = heatmap(model);
        AtomicFiles.writeStream(heat, out -> ChartUtils.writeChartAsPNG(out, heatChart, w, h));
        JFreeChart scatterChart = scatter(model);
        AtomicFiles.writeStream(scat, out -> ChartUtils.writeChartAsPNG(out, scatterChart, 900, 760));
        return List.of(heat, scat);
    }

    static JFreeChart heatmap(ReportModel model) {
        CosineMatrix cm = model.cosine();
        int[] anchors = cm.anchors(), fines = cm.fines();
        int n = anchors.length * fines.length;
        double[][] xyz = new double[3][n];
        int k = 0;
        for (int i = 0; i < anchors.length; i++) {
            for (int j = 0; j < fines.length; j++, k++) {
                xyz[0][k] = j;
                xyz[1][k] = i;
                xyz[2][k] = cm.at(i, j); // NaN stays NaN: the paint scale paints it grey
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("cosine", xyz);
        SymbolAxis x = new SymbolAxis("fine feature", labels(fines));
        x.setVerticalTickLabels(true);
        x.setTickLabelFont(LABEL_FONT);
        x.setGridBandsVisible(false);
        SymbolAxis y = new SymbolAxis("coarse anchor", labels(anchors));
        y.setInverted(true); // first anchor on top, like a matrix
        y.setTickLabelFont(LABEL_FONT);
        y.setGridBandsVisible(false);
        XYBlockRenderer r = new XYBlockRenderer();
        DivergingScale scale = new DivergingScale(-1, 1);
        r.setPaintScale(scale);
        XYPlot plot = new XYPlot(data, x, y, r);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        JFreeChart chart = new JFreeChart("Decoder cosine: anchors x fine features", JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        NumberAxis legendAxis = new NumberAxis("cosine");
        legendAxis.setRange(scale.getLowerBound(), scale.getUpperBound());
        legendAxis.setTickUnit(new NumberTickUnit(0.25));
        PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(new RectangleInsets(10, 10, 10, 10));
        legend.setStripWidth(16);
        chart.addSubtitle(legend);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    static JFreeChart scatter(ReportModel model) {
        ReportModel.Thresholds t = model.config().thresholds();
        Map<Classification, XYSeries> series = new EnumMap<>(Classification.class);
        for (Classification c : Classification.values()) series.put(c, new XYSeries(label(c), false, true));
        double lo = Math.min(0, Math.min(t.minCorrelation(), t.minCosine())), hi = 1;
        int skipped = 0;
        for (FeaturePair p : model.scatter()) {
            if (!Double.isFinite(p.correlation()) || !Double.isFinite(p.cosine())) { skipped++; continue; }
            series.get(p.classification()).add(p.correlation(), p.cosine());
            lo = Math.min(lo, Math.min(p.correlation(), p.cosine()));
            hi = Math.max(hi, Math.max(p.correlation(), p.cosine()));
        }
        if (skipped > 0) {
            LOG.log(System.Logger.Level.INFO, "scatter.png: {0} pair(s) with a non-finite correlation or cosine are not drawn", skipped);
        }
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(false, true);
        int s = 0;
        for (Classification c : Classification.values()) {
            XYSeries xs = series.get(c);
            xs.setKey(label(c) + " (" + xs.getItemCount() + ")");
            data.addSeries(xs);
            r.setSeriesPaint(s, CLASS_COLORS.get(c));
            r.setSeriesShape(s, new Ellipse2D.Double(-4, -4, 8, 8));
            s++;
        }
        NumberAxis x = new NumberAxis("activation correlation (Pearson, all prompts)");
        NumberAxis y = new NumberAxis("decoder cosine");
        x.setRange(lo - 0.05, hi + 0.05);
        y.setRange(lo - 0.05, hi + 0.05);
        x.setTickUnit(new NumberTickUnit(0.1));
        y.setTickUnit(new NumberTickUnit(0.1));
        XYPlot plot = new XYPlot(data, x, y, r);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        BasicStroke dashed = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f);
        ValueMarker vx = new ValueMarker(t.minCorrelation(), Color.DARK_GRAY, dashed);
        vx.setLabel("correlation > " + t.minCorrelation());
        vx.setLabelAnchor(RectangleAnchor.TOP_RIGHT);
        vx.setLabelTextAnchor(TextAnchor.TOP_LEFT);
        ValueMarker vy = new ValueMarker(t.minCosine(), Color.DARK_GRAY, dashed);
        vy.setLabel("cosine > " + t.minCosine());
        vy.setLabelAnchor(RectangleAnchor.BOTTOM_LEFT);
        vy.setLabelTextAnchor(TextAnchor.TOP_LEFT);
        plot.addDomainMarker(vx, Layer.FOREGROUND);
        plot.addRangeMarker(vy, Layer.FOREGROUND);
        // the match quadrant, shaded under the points
        r.addAnnotation(new XYBoxAnnotation(t.minCorrelation(), t.minCosine(), hi + 0.05, hi + 0.05, null, null,
                new Color(214, 39, 40, 28)), Layer.BACKGROUND);
        JFreeChart chart = new JFreeChart("Activation correlation vs decoder cosine", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    private static String label(Classification c) {
        return c.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    private static String[] labels(int[] ids) {
        String[] s = new String[ids.length];
        for (int i = 0; i < ids.length; i++) s[i] = String.valueOf(ids[i]);
        return s;
    }

    /** Blue (low) - white (0) - red (high), grey for non-finite values; the same colours as the HTML heatmap. */
    static final class DivergingScale implements PaintScale {
        private static final Color LOW = new Color(0x2166ac), MID = Color.WHITE, HIGH = new Color(0xb2182b);
        private static final Color MISSING = new Color(0xbdbdbd);
        private final double lower, upper;

        DivergingScale(double lower, double upper) {
            if (!(lower < 0 && upper > 0)) throw new IllegalArgumentException("a diverging scale needs lower < 0 < upper");
            this.lower = lower;
            this.upper = upper;
        }

        @Override public double getLowerBound() { return lower; }

        @Override public double getUpperBound() { return upper; }

        @Override public Paint getPaint(double value) {
            if (!Double.isFinite(value)) return MISSING;
            double v = Math.clamp(value, lower, upper);
            return v < 0 ? mix(MID, LOW, v / lower) : mix(MID, HIGH, v / upper);
        }

        private static Color mix(Color a, Color b, double t) {
            return new Color((int) Math.round(a.getRed() + (b.getRed() - a.getRed()) * t),
                    (int) Math.round(a.getGreen() + (b.getGreen() - a.getGreen()) * t),
                    (int) Math.round(a.getBlue() + (b.getBlue() - a.getBlue()) * t));
        }
    }
}
