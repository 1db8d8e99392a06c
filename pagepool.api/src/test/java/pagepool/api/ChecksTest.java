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

    @Test
    void namesAreWhatLinuxTakesForAnInterface() {
        assertEquals("sim0", Checks.deviceName("name", "sim0"));
        assertEquals("eth0.100", Checks.deviceName("name", "eth0.100"));
        assertEquals("devmem-1", Checks.providerName("provider", "devmem-1"));
        String expected = " (expected: a device name of 1..15 characters of A-Z a-z 0-9 . _ -, as Linux names an"
                + " interface)";
        for (String[] bad : new String[][] {{"", "''"}, {"sim 0", "'sim 0'"}, {"a\nb", "'a?b'"},
            {"\u001b[31mred", "'?[31mred'"}, {"../../sim0", "'../../sim0'"}, {"..", "'..'"},
            {"x".repeat(16), "'xxxxxxxxxxxxxxxx'"}, {"y".repeat(100_000), "'" + "y".repeat(40) + "'... (100000 characters)"}}) {
            assertEquals("name: " + bad[1] + expected, assertThrows(IllegalArgumentException.class,
                    () -> Checks.deviceName("name", bad[0])).getMessage());
        }
        assertEquals("name: null" + expected, assertThrows(IllegalArgumentException.class,
                () -> Checks.deviceName("name", null)).getMessage());
    }
}
