package pagepool.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ChecksTest {

    @Test
    void integersAreAsciiDigitsAndNothingElse() {
        assertEquals(42, Checks.parseLong("n", " 42 ", "an integer"));
        assertEquals(-7, Checks.parseLong("n", "-7", "an integer"));
        assertEquals(100_000, Checks.parseLong("n", "100_000", "an integer"));
        assertEquals(0, Checks.parseLong("n", "000", "an integer"));
        assertEquals(Long.MAX_VALUE, Checks.parseLong("n", String.valueOf(Long.MAX_VALUE), "an integer"));
        for (String bad : new String[] {"+1", "-0", "-", "", " ", "\u0661", "1\u0660", "1 2", "1_", "_1", "1__0",
            "0x10", "1e3", "1.0", "9223372036854775808", null, "１"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Checks.parseLong("queue", bad, "an integer"), "'" + bad + "'");
            assertEquals("queue: '" + bad + "' (expected: an integer)", e.getMessage());
        }
        assertEquals("n: '4294967296' (expected: an int)", assertThrows(IllegalArgumentException.class,
                () -> Checks.parseInt("n", "4294967296", "an int")).getMessage());
    }
}
