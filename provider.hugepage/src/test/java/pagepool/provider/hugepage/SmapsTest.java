package pagepool.provider.hugepage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;

import org.junit.jupiter.api.Test;

/** smaps parsing on fixed text, as the kernel prints it. */
class SmapsTest {

    private static final List<String> SMAPS = List.of(
            "7f1c00000000-7f1c00400000 rw-p 00000000 00:00 0 ",
            "Size:               4096 kB",
            "KernelPageSize:        4 kB",
            "MMUPageSize:           4 kB",
            "Rss:                4096 kB",
            "AnonHugePages:      4096 kB",
            "THPeligible:    1",
            "VmFlags: rd wr mr mw me ac hg ",
            "7f1c00400000-7f1c00600000 rw-p 00000000 00:0f 12345                      /anon_hugepage (deleted)",
            "Size:               2048 kB",
            "KernelPageSize:     2048 kB",
            "AnonHugePages:         0 kB",
            "Shared_Hugetlb:        0 kB",
            "Private_Hugetlb:    2048 kB",
            "7ffd0000000-7ffd0021000 rw-p 00000000 00:00 0                          [stack]",
            "AnonHugePages:         0 kB");

    @Test
    void thpMappingReportsItsAnonHugePages() {
        Smaps.Mapping m = Smaps.find(SMAPS, 0x7f1c00200000L);
        assertEquals(0x7f1c00000000L, m.start());
        assertEquals(0x7f1c00400000L, m.end());
        assertEquals(4L << 20, m.anonHugePages());
        assertEquals(4096, m.kernelPageSize());
        assertEquals(0, m.hugetlb());
    }

    @Test
    void hugetlbMappingReportsItsHugetlbPagesAndPageSize() {
        Smaps.Mapping m = Smaps.find(SMAPS, 0x7f1c00400000L);
        assertEquals(2L << 20, m.hugetlb());
        assertEquals(2L << 20, m.kernelPageSize());
        assertEquals(0, m.anonHugePages());
    }

    @Test
    void addressOutsideEveryMappingIsNull() {
        assertNull(Smaps.find(SMAPS, 0x1000L));
        assertNull(Smaps.find(SMAPS, 0x7f1c00600000L), "the end is exclusive");
    }
}
