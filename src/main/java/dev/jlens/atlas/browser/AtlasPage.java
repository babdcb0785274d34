package dev.jlens.atlas.browser;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The HTML shell of the browser: the header with the jump and token-search boxes, an empty {@code <main>} that
 * atlas.js fills from the data files, and the self-check element the page keeps up to date (route, what it
 * rendered, every script error) for the headless browser test. Styles and scripts are inlined, so the page needs
 * nothing but its {@code atlas-data/} folder.
 */
final class AtlasPage {
    /** Id of the element holding the page's self-check JSON; its {@code data-state} is "done" once a route rendered. */
    static final String SELF_CHECK_ID = "atlas-selfcheck";
    private static final String RESOURCES = "/dev/jlens/atlas/browser/";

    private AtlasPage() {}

    static String render(AtlasInfo info) {
        String title = "Feature atlas \u00b7 " + info.saeId();
        StringBuilder h = new StringBuilder(64 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<link rel=\"icon\" href=\"data:,\">\n");
        // first on the page, so errors raised while anything else loads are recorded too
        h.append("<script>\n").append(inline("capture.js", "</script")).append("</script>\n");
        h.append("<title>").append(escape(title)).append("</title>\n");
        h.append("<style>\n").append(inline("atlas.css", "</style")).append("</style>\n</head>\n<body>\n");
        h.append("<header class=\"bar\">\n<a class=\"brand\" href=\"#\">Feature atlas</a>\n<span class=\"sub\">")
                .append(escape(info.saeId())).append(" \u00b7 layer ").append(info.layer()).append(" \u00b7 ")
                .append(String.format(Locale.ROOT, "%,d", info.dSae())).append(" features</span>\n");
        h.append("<form id=\"jump-form\" autocomplete=\"off\"><label for=\"jump-input\">Feature</label>")
                .append("<input id=\"jump-input\" type=\"number\" min=\"0\" placeholder=\"id\"><button>Open</button></form>\n");
        h.append("<form id=\"token-form\" autocomplete=\"off\"><label for=\"token-input\">Token</label>")
                .append("<input id=\"token-input\" type=\"search\" placeholder=\"e.g. Paris\"><button>Search</button></form>\n");
        h.append("</header>\n<main id=\"app\"><p class=\"loading\">Loading atlas data\u2026</p></main>\n");
        h.append("<footer><details><summary>Page self-check</summary><pre id=\"").append(SELF_CHECK_ID)
                .append("\" data-state=\"pending\">pending</pre></details></footer>\n");
        h.append("<script>\n").append(inline("atlas.js", "</script")).append("</script>\n</body>\n</html>\n");
        return h.toString();
    }

    /** Text for HTML content or a quoted attribute. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** A resource to inline; refuses code that would end its own element early (no escaping can fix code). */
    private static String inline(String name, String closer) {
        String code = resource(name);
        String lower = code.toLowerCase(Locale.ROOT);
        if (lower.contains(closer) || lower.contains("<script") || lower.contains("<!--")) {
            throw new IllegalStateException(RESOURCES + name + " contains '" + closer + "', '<script' or '<!--' and cannot be"
                    + " inlined in an HTML page safely");
        }
        return code;
    }

    private static String resource(String name) {
        try (InputStream in = AtlasPage.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) throw new IllegalStateException("resource " + RESOURCES + name + " is missing from the build");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + RESOURCES + name, e);
        }
    }
}
