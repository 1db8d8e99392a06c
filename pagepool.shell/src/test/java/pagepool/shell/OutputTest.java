package pagepool.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class OutputTest {

    @Test
    void tableAlignsColumnsAndShowsMissingValuesAsDash() {
        String t = new Output("queue", "provider", "message").row("sim0/0", "heap", "").row("sim0/12", "hugepage", null)
                .render();
        assertEquals(String.join("\n",
                "QUEUE    PROVIDER  MESSAGE",
                "sim0/0   heap      -",
                "sim0/12  hugepage  -"), t);
    }

    @Test
    void listsAndMapsPrintInOneCell() {
        String t = new Output("id", "details", "queues").row(1, Map.of("address", "127.0.0.1:9"), List.of(1, 2)).render();
        assertEquals("ID  DETAILS              QUEUES\n1   address=127.0.0.1:9  1,2", t);
    }

    @Test
    void emptyTableSaysSo() {
        assertEquals("A  BB\n(none)", new Output("a", "bb").render(), "an empty table still says what it lists");
    }
}
