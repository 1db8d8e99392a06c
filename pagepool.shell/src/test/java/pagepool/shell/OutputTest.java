package pagepool.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class OutputTest {

    @Test
    void tableAlignsColumnsAndShowsMissingValuesAsDash() {
        String t = new Output("queue", "provider", "message").row("sim0/0", "heap", "").row("sim0/12", "hugepage", null)
                .render(false);
        assertEquals(String.join("\n",
                "QUEUE    PROVIDER  MESSAGE",
                "sim0/0   heap      -",
                "sim0/12  hugepage  -"), t);
    }

    @Test
    void jsonEscapesAndNests() {
        String j = new Output("id", "name", "stats").row(1, "a\"b\n", Map.of("alloc-fast", 3L)).row(2, null, List.of(1, 2))
                .render(true);
        assertEquals("[{\"id\":1,\"name\":\"a\\\"b\\n\",\"stats\":{\"alloc-fast\":3}},"
                + "{\"id\":2,\"name\":null,\"stats\":[1,2]}]", j);
    }

    @Test
    void emptyTableSaysSo() {
        assertEquals("A  BB\n(none)", new Output("a", "bb").render(false), "an empty table still says what it lists");
        assertEquals("[]", new Output("a").render(true));
    }
}
