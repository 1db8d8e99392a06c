package pagepool.provider.hugepage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads what the kernel really gave a mapping, from {@code /proc/self/smaps}: how much of it is
 * backed by transparent huge pages ({@code AnonHugePages}) or by hugetlbfs
 * ({@code Private_Hugetlb}/{@code Shared_Hugetlb}), and its kernel page size.
 */
final class Smaps {

    /** The kernel's view of one mapping, in bytes. */
    record Mapping(long start, long end, long anonHugePages, long hugetlb, long kernelPageSize) {
    }

    private Smaps() {
    }

    static Mapping read(long start) throws IOException {
        return find(Files.readAllLines(Path.of("/proc/self/smaps")), start);
    }

    /**
     * The mapping that contains {@code address} in smaps text, or null.
     */
    static Mapping find(List<String> lines, long address) {
        Mapping found = null;
        long start = 0;
        long end = 0;
        long anonHuge = 0;
        long hugetlb = 0;
        long kernelPage = 0;
        boolean inside = false;
        for (String line : lines) {
            int dash = line.indexOf('-');
            int space = line.indexOf(' ');
            if (dash > 0 && space > dash && isHex(line, 0, dash)) {
                if (inside) {
                    return new Mapping(start, end, anonHuge, hugetlb, kernelPage);
                }
                start = Long.parseUnsignedLong(line.substring(0, dash), 16);
                end = Long.parseUnsignedLong(line.substring(dash + 1, space), 16);
                inside = Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address, end) < 0;
                anonHuge = 0;
                hugetlb = 0;
                kernelPage = 0;
            } else if (inside) {
                if (line.startsWith("AnonHugePages:")) {
                    anonHuge = kb(line);
                } else if (line.startsWith("Private_Hugetlb:") || line.startsWith("Shared_Hugetlb:")) {
                    hugetlb += kb(line);
                } else if (line.startsWith("KernelPageSize:")) {
                    kernelPage = kb(line);
                }
            }
        }
        return inside ? new Mapping(start, end, anonHuge, hugetlb, kernelPage) : found;
    }

    private static boolean isHex(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (Character.digit(s.charAt(i), 16) < 0) {
                return false;
            }
        }
        return to > from;
    }

    private static long kb(String line) {
        String[] parts = line.trim().split("\\s+");
        return Long.parseLong(parts[1]) * 1024;
    }

    /** {@code /sys/kernel/mm/transparent_hugepage/enabled}'s selected mode, or "unavailable". */
    static String thpMode() {
        try {
            String s = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled")).trim();
            int open = s.indexOf('[');
            int close = s.indexOf(']');
            return open >= 0 && close > open ? s.substring(open + 1, close) : s;
        } catch (IOException | RuntimeException e) {
            return "unavailable";
        }
    }
}
