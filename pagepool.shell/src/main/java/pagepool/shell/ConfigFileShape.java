package pagepool.shell;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What Config Admin cannot tell of a {@code .cfg} file, since it gets the file already read: a key
 * written twice (the last one silently wins) and a file too large to be a configuration (a 10 MB
 * file would become a 10-million-character value). Read as {@link java.util.Properties} reads it:
 * comments, continuation lines, keys ending at an unescaped {@code =}, {@code :} or blank.
 */
final class ConfigFileShape {

    /** A configuration is a few lines; 64 KiB is far beyond any pagepool file. */
    static final long MAX_BYTES = 64 * 1024;

    private ConfigFileShape() {
    }

    /**
     * @param file the file's location as FileInstall records it (a URL or a path)
     * @return what is wrong with it, one sentence each; empty when nothing is or it cannot be read
     */
    static List<String> problems(String file) {
        Path path;
        try {
            path = file.startsWith("file:") ? Path.of(URI.create(file)) : Path.of(file);
        } catch (RuntimeException e) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        try {
            long size = Files.size(path);
            if (size > MAX_BYTES) {
                out.add("the file is " + size + " bytes (expected: at most " + MAX_BYTES + "; a configuration is a few"
                        + " lines)");
                return out;
            }
            duplicates(Files.readAllLines(path, StandardCharsets.ISO_8859_1), out);
        } catch (IOException | RuntimeException e) {
            return List.of(); // gone meanwhile, or not a file: Config Admin speaks for it
        }
        return out;
    }

    private static void duplicates(List<String> lines, List<String> out) {
        Map<String, List<Integer>> seen = new LinkedHashMap<>();
        StringBuilder logical = null;
        int start = 0;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (logical == null) {
                String t = line.stripLeading();
                if (t.isEmpty() || t.startsWith("#") || t.startsWith("!")) {
                    continue;
                }
                logical = new StringBuilder(t);
                start = i + 1;
            } else {
                logical.append(line.stripLeading());
            }
            if (continues(logical)) {
                logical.setLength(logical.length() - 1);
                continue;
            }
            seen.computeIfAbsent(key(logical), k -> new ArrayList<>()).add(start);
            logical = null;
        }
        seen.forEach((key, at) -> {
            if (at.size() > 1) {
                out.add("key '" + key + "' is written " + at.size() + " times, on lines " + at + " (expected: each key"
                        + " once; the last one applies)");
            }
        });
    }

    /** Whether a line ends in an odd number of backslashes: it goes on on the next line. */
    private static boolean continues(CharSequence s) {
        int n = 0;
        for (int i = s.length() - 1; i >= 0 && s.charAt(i) == '\\'; i--) {
            n++;
        }
        return n % 2 == 1;
    }

    private static String key(CharSequence s) {
        StringBuilder k = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                k.append(s.charAt(++i));
            } else if (c == '=' || c == ':' || Character.isWhitespace(c)) {
                break;
            } else {
                k.append(c);
            }
        }
        return k.toString();
    }
}
