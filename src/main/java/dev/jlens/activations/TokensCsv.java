package dev.jlens.activations;

import dev.jlens.formats.Csv;

/**
 * The text column of a capture folder's {@code tokens.csv} ({@code prompt,position,token_id,text}). A token's text comes
 * from the model's vocabulary, so it may hold any character: control characters are escaped so that every row is one
 * line with no raw NUL or other control byte in the file, and the escapes are unambiguous:
 * <ul>
 *   <li>a backslash is written {@code \\}; a newline {@code \n}, a carriage return {@code \r}, a tab {@code \t};</li>
 *   <li>every other control character (U+0000..U+001F, U+007F, U+0080..U+009F) is written {@code \}{@code uXXXX}
 *       (four hex digits, as in Java and JSON), e.g. NUL as {@code \}{@code u0000};</li>
 *   <li>then the cell is written per RFC 4180 with the spreadsheet formula guard of {@link Csv#cell}.</li>
 * </ul>
 * {@link #text} reverses both steps; a text without backslashes or control characters is written as before.
 */
public final class TokensCsv {
    /** The header line (without its newline). */
    public static final String HEADER = "prompt,position,token_id,text";

    private TokensCsv() {}

    /** One row of tokens.csv, with its newline. */
    public static String row(int prompt, int position, int token, String text) {
        return Csv.row(prompt, position, token, escape(text));
    }

    /** A token's text with backslashes and control characters escaped (see the class comment). */
    public static String escape(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String e = switch (c) {
                case '\\' -> "\\\\";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                default -> Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : null;
            };
            if (e != null && b == null) b = new StringBuilder(s.length() + 8).append(s, 0, i);
            if (b != null) {
                if (e != null) b.append(e);
                else b.append(c);
            }
        }
        return b == null ? s : b.toString();
    }

    /** The inverse of {@link #escape}; IllegalArgumentException for a malformed escape. */
    public static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i + 1 >= s.length()) throw new IllegalArgumentException("a lone backslash at the end of '" + s + "'");
            char n = s.charAt(++i);
            switch (n) {
                case '\\' -> b.append('\\');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (i + 5 > s.length()) throw new IllegalArgumentException("a short \\u escape in '" + s + "'");
                    try {
                        b.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("a malformed \\u escape in '" + s + "'");
                    }
                    i += 4;
                }
                default -> throw new IllegalArgumentException("an unknown escape \\" + n + " in '" + s + "'");
            }
        }
        return b.toString();
    }

    /** A text cell of tokens.csv back to the token's text: RFC 4180 quotes, the formula guard's quote, then the escapes. */
    public static String text(String cell) {
        String s = cell;
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) s = s.substring(1, s.length() - 1).replace("\"\"", "\"");
        if (s.length() >= 2 && s.charAt(0) == '\'' && "=+-@\t\r".indexOf(s.charAt(1)) >= 0) s = s.substring(1);
        return unescape(s);
    }
}
