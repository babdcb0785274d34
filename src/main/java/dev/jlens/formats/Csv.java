package dev.jlens.formats;

/**
 * CSV cells per RFC 4180, safe for spreadsheets: token text from a vocabulary is untrusted, so a
 * cell starting with = + - @ tab or CR is prefixed with a single quote (formula-injection guard).
 */
public final class Csv {
    private Csv() {}

    public static String cell(String s) {
        if (s == null) return "";
        String v = s;
        if (!v.isEmpty()) {
            char c = v.charAt(0);
            if (c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r') v = "'" + v;
        }
        boolean quote = v.indexOf(',') >= 0 || v.indexOf('"') >= 0 || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0
                || (!v.isEmpty() && (v.charAt(0) == ' ' || v.charAt(v.length() - 1) == ' '));
        return quote ? '"' + v.replace("\"", "\"\"") + '"' : v;
    }

    /** A numeric cell: finite numbers as Java prints them, NaN/Inf as empty (never "NaN" in outputs). */
    public static String number(double d) {
        return Double.isFinite(d) ? Double.toString(d) : "";
    }

    /** One line: Strings are escaped and neutralised, Numbers written plainly (a negative number stays a number). */
    public static String row(Object... cells) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) b.append(',');
            Object c = cells[i];
            if (c instanceof Double || c instanceof Float) b.append(number(((Number) c).doubleValue()));
            else if (c instanceof Number || c instanceof Boolean) b.append(c);
            else b.append(cell(c == null ? null : c.toString()));
        }
        return b.append('\n').toString();
    }
}
