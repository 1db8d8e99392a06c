package pagepool.shell;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import pagepool.api.Checks;

/**
 * Rows of named columns, printed as an aligned table for people (JSON for scripts is the control
 * plane's, {@code Control.json}). Values are anything with a useful {@code toString}, lists and
 * maps; null and empty print as "-".
 */
final class Output {

    private final List<String> columns;
    private final List<Map<String, Object>> rows = new ArrayList<>();

    Output(String... columns) {
        this.columns = List.of(columns);
    }

    Output row(Object... values) {
        if (values.length != columns.size()) {
            throw Checks.invalid("row", values.length + " values", columns.size() + " values, one per column");
        }
        Map<String, Object> r = new LinkedHashMap<>();
        for (int i = 0; i < values.length; i++) {
            r.put(columns.get(i), values[i]);
        }
        rows.add(r);
        return this;
    }

    String render() {
        if (rows.isEmpty()) {
            // The columns say what is absent: "BUFFER  SIZE ..." over "(none)", not a bare "(none)".
            return String.join("  ", columns.stream().map(c -> c.toUpperCase(java.util.Locale.ROOT)).toList())
                    + "\n(none)";
        }
        int[] width = new int[columns.size()];
        for (int c = 0; c < width.length; c++) {
            width[c] = columns.get(c).length();
            for (Map<String, Object> r : rows) {
                width[c] = Math.max(width[c], text(r.get(columns.get(c))).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, width, columns.stream().map(c -> c.toUpperCase(java.util.Locale.ROOT)).toList());
        for (Map<String, Object> r : rows) {
            line(sb, width, columns.stream().map(c -> text(r.get(c))).toList());
        }
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }

    private static void line(StringBuilder sb, int[] width, List<String> cells) {
        for (int c = 0; c < cells.size(); c++) {
            String cell = cells.get(c);
            sb.append(cell);
            if (c < cells.size() - 1) {
                sb.append(" ".repeat(width[c] - cell.length() + 2));
            }
        }
        sb.append('\n');
    }

    private static String text(Object v) {
        if (v == null) {
            return "-";
        }
        if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                return "-";
            }
            StringBuilder sb = new StringBuilder();
            m.forEach((k, x) -> sb.append(sb.isEmpty() ? "" : " ").append(k).append('=').append(text(x)));
            return sb.toString();
        }
        if (v instanceof List<?> l) {
            if (l.isEmpty()) {
                return "-";
            }
            StringBuilder sb = new StringBuilder();
            l.forEach(x -> sb.append(sb.isEmpty() ? "" : ",").append(text(x)));
            return sb.toString();
        }
        String s = String.valueOf(v);
        return s.isEmpty() ? "-" : s;
    }
}
