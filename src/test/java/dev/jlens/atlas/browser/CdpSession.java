package dev.jlens.atlas.browser;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A minimal Chrome DevTools Protocol client over {@code --remote-debugging-pipe}: Chromium reads commands on its
 * file descriptor 3 and writes replies and events on 4, each a JSON message ended by a NUL byte. Two named pipes
 * stand in for those descriptors (a shell opens them as 3 and 4 and execs Chromium), so no port is opened at all.
 * One page target, attached in flat mode; enough to navigate, evaluate, click with real input events and take
 * screenshots.
 */
final class CdpSession implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long CALL_TIMEOUT_S = 30;

    private final Process process;
    private final Path stderr;
    private final OutputStream toBrowser;
    private final InputStream fromBrowser;
    private final Thread reader;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    /** Uncaught exceptions and console errors the page reported (Runtime events). */
    final List<String> pageErrors = new CopyOnWriteArrayList<>();
    private String session;

    private CdpSession(Process process, Path stderr, OutputStream toBrowser, InputStream fromBrowser) {
        this.process = process;
        this.stderr = stderr;
        this.toBrowser = toBrowser;
        this.fromBrowser = fromBrowser;
        this.reader = Thread.ofPlatform().daemon().name("cdp-reader").start(this::readLoop);
    }

    /** Starts headless Chromium with a {@code width x height} viewport and attaches to a fresh blank page. */
    static CdpSession start(Path workDir, int width, int height) throws Exception {
        Path chromium = Chromium.executable();
        Path in = workDir.resolve("cdp-in");
        Path out = workDir.resolve("cdp-out");
        Process mkfifo = new ProcessBuilder("mkfifo", in.toString(), out.toString()).inheritIO().start();
        if (mkfifo.waitFor() != 0) fail("mkfifo failed");
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "exec \"$0\" \"$@\" 3<\"$CDP_IN\" 4>\"$CDP_OUT\"", chromium.toString()));
        cmd.addAll(Chromium.baseFlags(Files.createDirectories(workDir.resolve("profile-cdp"))));
        cmd.addAll(List.of("--remote-debugging-pipe", "--window-size=" + width + "," + height, "about:blank"));
        Path stderr = workDir.resolve("cdp.stderr");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(stderr.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("CDP_IN", in.toString());
        pb.environment().put("CDP_OUT", out.toString());
        Process p = pb.start();
        // the shell opens its ends in this order (3 then 4); opening ours in the same order cannot deadlock, and a
        // shell that died first would leave us blocked, hence the timeout
        CompletableFuture<OutputStream> w = CompletableFuture.supplyAsync(() -> open(() -> new FileOutputStream(in.toFile())));
        OutputStream toBrowser;
        InputStream fromBrowser;
        try {
            toBrowser = w.get(Chromium.TIMEOUT_S, TimeUnit.SECONDS);
            fromBrowser = CompletableFuture.supplyAsync(() -> open(() -> new FileInputStream(out.toFile())))
                    .get(Chromium.TIMEOUT_S, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            p.destroyForcibly();
            throw new AssertionError("chromium never opened its debugging pipes; stderr:\n" + Chromium.tail(stderr), e);
        }
        CdpSession s = new CdpSession(p, stderr, toBrowser, fromBrowser);
        s.attach(width, height);
        return s;
    }

    private interface Opener<T> {
        T open() throws IOException;
    }

    private static <T> T open(Opener<T> o) {
        try {
            return o.open();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void attach(int width, int height) throws Exception {
        String target = browserCall("Target.createTarget", obj("url", "about:blank")).get("targetId").textValue();
        ObjectNode params = obj("targetId", target);
        params.put("flatten", true);
        session = browserCall("Target.attachToTarget", params).get("sessionId").textValue();
        call("Page.enable", obj());
        call("Runtime.enable", obj());
        ObjectNode metrics = obj();
        metrics.put("width", width).put("height", height).put("deviceScaleFactor", 1).put("mobile", false);
        call("Emulation.setDeviceMetricsOverride", metrics);
    }

    /** Navigates the page to {@code url}. */
    void navigate(String url) throws Exception {
        call("Page.navigate", obj("url", url));
    }

    /** The value of a JavaScript expression (awaited when it is a promise), as JSON. */
    JsonNode eval(String expression) throws Exception {
        ObjectNode p = obj("expression", expression);
        p.put("returnByValue", true).put("awaitPromise", true);
        JsonNode r = call("Runtime.evaluate", p);
        if (r.has("exceptionDetails")) fail("page threw evaluating " + expression + ": " + r.get("exceptionDetails"));
        return r.at("/result/value");
    }

    /**
     * Polls {@code expression} until it is true; fails with {@code what} after {@code timeoutS}. While a navigation
     * replaces the document the expression may throw or find nothing: that counts as not yet.
     */
    void waitUntil(String expression, String what, long timeoutS) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
        while (System.nanoTime() < deadline) {
            ObjectNode p = obj("expression", "(() => { try { return !!(" + expression + "); } catch (e) { return false; } })()");
            p.put("returnByValue", true);
            JsonNode r = send("Runtime.evaluate", p, session, false);
            if (r != null && r.at("/result/value").asBoolean(false)) return;
            Thread.sleep(50);
        }
        fail("timed out after " + timeoutS + " s waiting for " + what + " (" + expression + "); page errors " + pageErrors
                + "; last self-check " + eval("(document.getElementById('atlas-selfcheck')||{}).textContent"));
    }

    /** A real mouse click (move, press, release) at the centre of the first element matching {@code selector}. */
    void click(String selector) throws Exception {
        JsonNode box = eval("(() => { const e = document.querySelector(" + JSON.writeValueAsString(selector) + ");"
                + " if (!e) return null; e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                + " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()");
        if (box == null || box.isNull() || box.isMissingNode()) fail("nothing matches " + selector + " to click");
        double x = box.get("x").doubleValue();
        double y = box.get("y").doubleValue();
        mouse("mouseMoved", x, y, 0);
        mouse("mousePressed", x, y, 1);
        mouse("mouseReleased", x, y, 1);
    }

    /** Types {@code text} into the focused element as IME input, then presses Enter. */
    void typeAndEnter(String text) throws Exception {
        call("Input.insertText", obj("text", text));
        for (String type : List.of("keyDown", "keyUp")) {
            ObjectNode k = obj("type", type);
            k.put("key", "Enter").put("code", "Enter").put("windowsVirtualKeyCode", 13).put("nativeVirtualKeyCode", 13);
            if (type.equals("keyDown")) k.put("text", "\r");
            call("Input.dispatchKeyEvent", k);
        }
    }

    /** A PNG of the whole page (not only the viewport). */
    byte[] screenshot() throws Exception {
        ObjectNode p = obj("format", "png");
        p.put("captureBeyondViewport", true);
        return Base64.getDecoder().decode(call("Page.captureScreenshot", p).get("data").textValue());
    }

    private void mouse(String type, double x, double y, int clicks) throws Exception {
        ObjectNode m = obj("type", type);
        m.put("x", x).put("y", y).put("button", clicks > 0 ? "left" : "none").put("clickCount", clicks);
        if (clicks > 0) m.put("buttons", type.equals("mousePressed") ? 1 : 0);
        call("Input.dispatchMouseEvent", m);
    }

    /** A command to the attached page. */
    JsonNode call(String method, ObjectNode params) throws Exception {
        return send(method, params, session);
    }

    private JsonNode browserCall(String method, ObjectNode params) throws Exception {
        return send(method, params, null);
    }

    private JsonNode send(String method, ObjectNode params, String sessionId) throws Exception {
        return send(method, params, sessionId, true);
    }

    /** Sends a command and waits for its reply; a protocol error fails the test when {@code strict}, else gives null. */
    private JsonNode send(String method, ObjectNode params, String sessionId, boolean strict) throws Exception {
        int id = ids.incrementAndGet();
        ObjectNode msg = obj("method", method);
        msg.put("id", id);
        msg.set("params", params);
        if (sessionId != null) msg.put("sessionId", sessionId);
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        pending.put(id, reply);
        synchronized (toBrowser) {
            toBrowser.write(JSON.writeValueAsBytes(msg));
            toBrowser.write(0);
            toBrowser.flush();
        }
        JsonNode r;
        try {
            r = reply.get(CALL_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(method + " got no reply in " + CALL_TIMEOUT_S + " s; stderr:\n" + Chromium.tail(stderr), e);
        } catch (ExecutionException e) {
            throw new AssertionError(method + " failed: " + e.getCause() + "; stderr:\n" + Chromium.tail(stderr), e);
        }
        if (r.has("error")) {
            if (!strict) return null;
            fail(method + " returned an error: " + r.get("error"));
        }
        return r.get("result");
    }

    private void readLoop() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            for (int b; (b = fromBrowser.read()) >= 0; ) {
                if (b != 0) {
                    buf.write(b);
                    continue;
                }
                dispatch(JSON.readTree(buf.toString(StandardCharsets.UTF_8)));
                buf.reset();
            }
        } catch (IOException e) {
            // the browser closed the pipe; the pending calls fail below
        }
        IOException closed = new IOException("chromium closed the debugging pipe");
        pending.values().forEach(f -> f.completeExceptionally(closed));
    }

    private void dispatch(JsonNode msg) {
        if (msg.has("id")) {
            CompletableFuture<JsonNode> f = pending.remove(msg.get("id").intValue());
            if (f != null) f.complete(msg);
            return;
        }
        String method = msg.path("method").asText();
        Function<JsonNode, String> text = n -> n.toString().length() > 500 ? n.toString().substring(0, 500) : n.toString();
        if (method.equals("Runtime.exceptionThrown")) pageErrors.add("exception: " + text.apply(msg.at("/params/exceptionDetails")));
        if (method.equals("Runtime.consoleAPICalled") && msg.at("/params/type").asText().equals("error")) {
            pageErrors.add("console.error: " + text.apply(msg.at("/params/args")));
        }
    }

    private static ObjectNode obj() {
        return JSON.createObjectNode();
    }

    private static ObjectNode obj(String key, String value) {
        return JSON.createObjectNode().put(key, value);
    }

    @Override
    public void close() throws Exception {
        try {
            send("Browser.close", obj(), null);
        } catch (Throwable ignored) {
            // already gone
        }
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        toBrowser.close();
        fromBrowser.close();
        reader.join(5_000);
    }
}
