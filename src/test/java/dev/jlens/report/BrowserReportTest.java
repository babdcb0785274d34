package dev.jlens.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Opens the report in a real headless Chromium from disk and reads back the page's own self-check: no
 * script errors, and every plot rendered (SVG marks for 2D plots, coloured WebGL pixels for the 3D cloud,
 * drawn by SwiftShader since there is no GPU). Without Chromium the test is skipped, except on CI (env CI
 * set) where a missing browser is a failure.
 */
class BrowserReportTest {
    private static final long TIMEOUT_S = 60;
    private static final Pattern SELF_CHECK = Pattern.compile(
            "<pre id=\"" + HtmlReport.SELF_CHECK_ELEMENT_ID + "\" data-state=\"([a-z]+)\">(.*?)</pre>", Pattern.DOTALL);

    @TempDir Path dir;

    @Test
    void reportRendersEveryPlotWithoutErrorsInHeadlessChromium() throws Exception {
        Path chromium = chromium();
        Path out = Files.createDirectories(dir.resolve("out"));
        Path report = HtmlReport.write(out, ReportFixture.model(true, true));
        Path shot = dir.resolve("screenshot.png");
        Path dom = dir.resolve("dom.html");
        Path stderr = dir.resolve("chromium.stderr");
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(),
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("profile")),
                // WebGL (plotly scatter3d) on the CPU: ANGLE over SwiftShader, which Chromium only allows when asked
                "--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                // no name resolves, so a page that reached for the network would fail visibly
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--window-size=1400,4000", "--virtual-time-budget=10000",
                "--screenshot=" + shot, "--dump-dom", report.toUri().toString()));
        Process p = new ProcessBuilder(cmd).redirectOutput(dom.toFile()).redirectError(stderr.toFile()).start();
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("chromium did not finish in " + TIMEOUT_S + " s; stderr:\n" + tail(stderr));
        }
        keepArtifacts(shot, dom);
        assertEquals(0, p.exitValue(), () -> "chromium failed; stderr:\n" + tail(stderr));

        String page = Files.readString(dom);
        Matcher m = SELF_CHECK.matcher(page);
        assertTrue(m.find(), () -> "self-check element missing from the DOM; stderr:\n" + tail(stderr));
        assertEquals("done", m.group(1), () -> "page never finished its self-check: " + m.group(2) + "\nstderr:\n" + tail(stderr));
        JsonNode check = new ObjectMapper().readTree(unescapeText(m.group(2)));
        assertEquals(0, check.get("errors").size(), () -> "page errors: " + check.get("errors") + "\nstderr:\n" + tail(stderr));
        for (String plot : new String[] {"heatmap", "scatter", "cloud", "steering"}) {
            JsonNode r = check.at("/plots/" + plot);
            assertTrue(r.path("rendered").asBoolean(false), () -> plot + " did not render: " + check.get("plots") + "\nstderr:\n" + tail(stderr));
        }
        assertEquals(3, check.at("/plots/scatter/thresholdShapes").asInt(), "scatter threshold region + two lines");
        assertEquals(0, check.get("resources").size(), () -> "page fetched URLs: " + check.get("resources"));
        assertTrue(!page.contains("<script>alert"), "hostile text became markup in the live DOM");

        BufferedImage img = ImageIO.read(shot.toFile());
        assertEquals(1400, img.getWidth());
        assertTrue(PngFiguresTest.lumaVariance(img) > 100, "screenshot is blank");
        // the GO banner's green shows that the stylesheet applied
        assertTrue(PngFiguresTest.countColour(img, 0x1e7d34, 6) > 5_000, "no GO banner in the screenshot");
    }

    private static Path chromium() {
        String configured = System.getProperty("jlens.chromium", System.getenv("JLENS_CHROMIUM"));
        Path path = Path.of(configured != null ? configured : "/usr/bin/chromium");
        if (!Files.isExecutable(path)) {
            String why = "Chromium not found at " + path + " (set -Djlens.chromium or JLENS_CHROMIUM; on Debian: apt-get install chromium)";
            if (System.getenv("CI") != null) fail(why);
            Assumptions.abort(why);
        }
        return path;
    }

    /** Copies the screenshot and DOM next to the build output so a person (or CI) can look at them. */
    private static void keepArtifacts(Path shot, Path dom) throws IOException {
        String build = System.getProperty("jlens.build.dir");
        if (build == null) return;
        Path keep = Files.createDirectories(Path.of(build, "report-browser"));
        if (Files.exists(shot)) Files.copy(shot, keep.resolve("screenshot.png"), StandardCopyOption.REPLACE_EXISTING);
        if (Files.exists(dom)) Files.copy(dom, keep.resolve("dom.html"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** Undoes the escaping Chromium's DOM serialiser applies to text nodes. */
    private static String unescapeText(String s) {
        return s.replace("&lt;", "<").replace("&gt;", ">").replace("&nbsp;", "\u00a0").replace("&amp;", "&");
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }
}
