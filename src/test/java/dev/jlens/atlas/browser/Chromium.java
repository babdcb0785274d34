package dev.jlens.atlas.browser;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Headless Chromium for the browser tests: finds the executable (skips without it, fails on CI), runs
 * {@code --dump-dom} with a screenshot, and keeps what it saw next to the build output for a person to look at.
 */
final class Chromium {
    static final long TIMEOUT_S = 90;

    private Chromium() {}

    /** The Chromium executable; aborts the test when there is none, except on CI (env CI set) where that fails. */
    static Path executable() {
        String configured = System.getProperty("jlens.chromium", System.getenv("JLENS_CHROMIUM"));
        Path path = Path.of(configured != null ? configured : "/usr/bin/chromium");
        if (!Files.isExecutable(path)) {
            String why = "Chromium not found at " + path + " (set -Djlens.chromium or JLENS_CHROMIUM; on Debian: apt-get install chromium)";
            if (System.getenv("CI") != null) fail(why);
            Assumptions.abort(why);
        }
        return path;
    }

    /** Flags shared by every run: no GPU, no network, no first-run or background traffic, a fresh profile. */
    static List<String> baseFlags(Path profile) {
        return new ArrayList<>(List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--mute-audio", "--user-data-dir=" + profile,
                // no name resolves, so a page that reached for the network would fail visibly
                "--host-resolver-rules=MAP * ~NOTFOUND"));
    }

    /** What {@code --dump-dom} printed: the live DOM after the page's scripts ran. */
    record Dump(String dom, Path screenshot, String stderr) {}

    /** Opens {@code url} and returns the DOM after {@code virtualTimeMs} of virtual time, with a screenshot. */
    static Dump dumpDom(Path workDir, String url, int width, int height, String name) throws IOException, InterruptedException {
        Path chromium = executable();
        Path shot = workDir.resolve(name + ".png");
        Path dom = workDir.resolve(name + ".html");
        Path stderr = workDir.resolve(name + ".stderr");
        List<String> cmd = new ArrayList<>();
        cmd.add(chromium.toString());
        cmd.addAll(baseFlags(Files.createDirectories(workDir.resolve("profile-" + name))));
        cmd.addAll(List.of("--window-size=" + width + "," + height, "--virtual-time-budget=15000",
                "--screenshot=" + shot, "--dump-dom", url));
        Process p = new ProcessBuilder(cmd).redirectOutput(dom.toFile()).redirectError(stderr.toFile()).start();
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("chromium did not finish in " + TIMEOUT_S + " s; stderr:\n" + tail(stderr));
        }
        keep(shot, name + ".png");
        keep(dom, name + ".html");
        assertEquals(0, p.exitValue(), () -> "chromium failed; stderr:\n" + tail(stderr));
        return new Dump(Files.readString(dom), shot, tail(stderr));
    }

    /** Copies a file into {@code <build dir>/atlas-browser/} so a person (or CI) can look at it. */
    static void keep(Path file, String name) throws IOException {
        String build = System.getProperty("jlens.build.dir");
        if (build == null || !Files.exists(file)) return;
        Path keep = Files.createDirectories(Path.of(build, "atlas-browser"));
        Files.copy(file, keep.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e + ")";
        }
    }
}
