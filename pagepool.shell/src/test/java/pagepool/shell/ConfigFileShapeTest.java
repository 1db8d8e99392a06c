package pagepool.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileShapeTest {

    @TempDir
    Path dir;

    private List<String> problems(String text) throws IOException {
        Path f = dir.resolve("pagepool.binding-x.cfg");
        Files.writeString(f, text);
        return ConfigFileShape.problems(f.toUri().toString());
    }

    @Test
    void aKeyWrittenTwiceIsNamedWithItsLines() throws IOException {
        assertEquals(List.of("key 'queues' is written 2 times, on lines [2, 5] (expected: each key once; the last one"
                + " applies)"), problems("device=sim0\nqueues=1\n# queues=3\nprovider=heap\n  queues : 2\n"));
    }

    @Test
    void continuationsCommentsAndEscapesAreReadAsPropertiesReadsThem() throws IOException {
        assertEquals(List.of(), problems("a=1,\\\n  a=2\n! a=3\nb\\=c=1\nb=2\n"), "one a, and 'b=c' is not 'b'");
        assertEquals(List.of(), problems(""));
    }

    @Test
    void aFileFarTooLargeForAConfigurationIsNamedWithItsSize() throws IOException {
        assertEquals(List.of("the file is 10000006 bytes (expected: at most 65536; a configuration is a few lines)"),
                problems("name=" + "x".repeat(10_000_000) + "\n"));
    }
}
