package dev.jlens.report;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PngFiguresTest {
    @TempDir static Path dir;
    static BufferedImage heatmap, scatter;

    @BeforeAll
    static void writeFigures() throws IOException {
        List<Path> files = PngFigures.write(dir, ReportFixture.model(false, true));
        assertEquals(List.of(dir.resolve("heatmap.png"), dir.resolve("scatter.png")), files);
        heatmap = ImageIO.read(files.get(0).toFile());
        scatter = ImageIO.read(files.get(1).toFile());
    }

    @Test
    void bothFiguresDecodeAndAreNotBlank() {
        assertNotNull(heatmap, "heatmap.png does not decode");
        assertNotNull(scatter, "scatter.png does not decode");
        assertTrue(lumaVariance(heatmap) > 100, "heatmap is blank");
        assertTrue(lumaVariance(scatter) > 100, "scatter is blank");
    }

    @Test
    void heatmapPaintsMatchesRedAndTheMissingCellGrey() {
        // the fixture's first anchor has cosines 0.45..0.75 with four fines: clearly red cells
        assertTrue(countColour(heatmap, 0xb2182b, 70) > 500, "no strong positive (red) cells");
        assertTrue(countColour(heatmap, 0xbdbdbd, 0) > 100, "the NaN cell is not painted grey");
    }

    @Test
    void scatterDrawsMatchPointsAndThresholdMarkers() {
        assertTrue(countColour(scatter, 0xd62728, 10) > 100, "no match-coloured points");
        assertTrue(countColour(scatter, 0x9a9a9a, 10) > 500, "no unrelated points");
        assertTrue(countColour(scatter, 0x404040, 8) > 200, "no dashed threshold markers");
    }

    @Test
    void figuresAreReplacedWithoutLeavingTemporaries() throws IOException {
        Path out = Files.createDirectories(dir.resolve("again"));
        PngFigures.write(out, ReportFixture.model(true, false));
        PngFigures.write(out, ReportFixture.model(true, false));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of("heatmap.png", "scatter.png"), files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void divergingScaleRunsBlueWhiteRedAndGreyForNaN() {
        PngFigures.DivergingScale s = new PngFigures.DivergingScale(-1, 1);
        assertEquals(new java.awt.Color(0x2166ac), s.getPaint(-1));
        assertEquals(java.awt.Color.WHITE, s.getPaint(0));
        assertEquals(new java.awt.Color(0xb2182b), s.getPaint(1));
        assertEquals(new java.awt.Color(0xb2182b), s.getPaint(7), "values beyond the bound are clamped");
        assertEquals(new java.awt.Color(0xbdbdbd), s.getPaint(Double.NaN));
    }

    /** Variance of the pixels' luma: near 0 for a blank (single-colour) image. */
    static double lumaVariance(BufferedImage img) {
        double sum = 0, sq = 0;
        long n = (long) img.getWidth() * img.getHeight();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y);
                double l = 0.299 * ((rgb >> 16) & 255) + 0.587 * ((rgb >> 8) & 255) + 0.114 * (rgb & 255);
                sum += l;
                sq += l * l;
            }
        }
        double mean = sum / n;
        return sq / n - mean * mean;
    }

    /** Pixels within {@code tolerance} per channel of {@code rgb}. */
    static int countColour(BufferedImage img, int rgb, int tolerance) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y);
                if (Math.abs(((p >> 16) & 255) - ((rgb >> 16) & 255)) <= tolerance
                        && Math.abs(((p >> 8) & 255) - ((rgb >> 8) & 255)) <= tolerance
                        && Math.abs((p & 255) - (rgb & 255)) <= tolerance) n++;
            }
        }
        return n;
    }
}
