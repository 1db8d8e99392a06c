package pagepool.kit.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class QueueCountersTest {

    @Test
    void aCounterIsTheOwnersCountsPlusEveryoneElses() throws Exception {
        QueueCounters c = new QueueCounters("packets", QueueCounters.RESTARTS, QueueCounters.ERRORS);
        int packets = c.index("packets");
        c.add(packets, 5);
        Thread other = new Thread(() -> c.addShared(packets, 2));
        other.start();
        other.join();
        c.publish();
        assertEquals(7, c.get(packets));
        c.set(packets, 40);
        Map<String, Long> m = c.putInto(new LinkedHashMap<>());
        assertEquals(List.of("packets", "restarts", "errors"), List.copyOf(m.keySet()), "in the order given");
        assertEquals(42L, m.get("packets"));
    }

    @Test
    void namesAreCheckedWhenTheCountersAreMade() {
        assertEquals("counter names [a, a, restarts, errors] (expected: each once)", assertThrows(
                IllegalArgumentException.class, () -> new QueueCounters("a", "a", "restarts", "errors")).getMessage());
        assertEquals("counter: 'restarts' (expected: one of [a, errors])", assertThrows(IllegalArgumentException.class,
                () -> new QueueCounters("a", "errors")).getMessage());
    }
}
