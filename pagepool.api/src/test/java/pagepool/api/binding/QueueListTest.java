package pagepool.api.binding;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The queue-list syntax of the shell and the binding files. */
class QueueListTest {

    private static String refused(String spec) {
        return assertThrows(IllegalArgumentException.class, () -> QueueList.parse(spec)).getMessage();
    }

    @Test
    void listsAndRangesInTheOrderWritten() {
        assertEquals(List.of(1), QueueList.parse("1"));
        assertEquals(List.of(0, 1, 3), QueueList.parse("0-1, 3"));
        assertEquals(List.of(5, 2), QueueList.parse(" 5 ,2 "));
        assertEquals(List.of(4095), QueueList.parse("4095"));
        assertEquals(List.of(7), QueueList.parse("007"));
    }

    @Test
    void malformedListsAreRefusedNamingTheText() {
        for (String bad : new String[] {"", " ", "x", "1,,2", "1,2,", ",1", "-1", "1-", "-", "1-x", "1.5", "+1", "1 2"}) {
            assertEquals("queues: '" + bad + "' (expected: a list like 1,2 or a range like 0-3 of indexes 0..4095)",
                    refused(bad), bad);
        }
        assertEquals("queues: 'null' (expected: a list like 1,2 or a range like 0-3 of indexes 0..4095)", refused(null));
    }

    @Test
    void hugeIndexesAndRangesAreRefusedBeforeAnythingIsExpanded() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            assertEquals("queues: '2147483647' (queue 2147483647 is beyond the largest index 4095; expected: a list"
                    + " like 1,2 or a range like 0-3 of indexes 0..4095)", refused("2147483647"));
            assertEquals("queues: '0-2147483647' (queue 2147483647 is beyond the largest index 4095; expected: a list"
                    + " like 1,2 or a range like 0-3 of indexes 0..4095)", refused("0-2147483647"));
            assertEquals("queues: '99999999999999999999' (queue 99999999999999999999 is beyond the largest index 4095;"
                    + " expected: a list like 1,2 or a range like 0-3 of indexes 0..4095)",
                    refused("99999999999999999999"));
        });
        assertEquals(4096, QueueList.parse("0-4095").size(), "the largest list there is");
    }

    @Test
    void backwardRangesAndRepeatsAreRefused() {
        assertEquals("queues: '3-1' (range 3-1 runs backwards; expected: a list like 1,2 or a range like 0-3 of"
                + " indexes 0..4095)", refused("3-1"));
        assertEquals("queues: '0-2,1' (queue 1 is listed twice; expected: a list like 1,2 or a range like 0-3 of"
                + " indexes 0..4095)", refused("0-2,1"));
    }
}
