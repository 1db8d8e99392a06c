package pagepool.provider.hugepage;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import pagepool.api.Checks;

/**
 * One mapping of {@code count} huge pages, and what really backs it. Tries hugetlbfs pages
 * ({@code MAP_HUGETLB}) first when asked, then anonymous memory aligned to the huge page size
 * with {@code madvise(MADV_HUGEPAGE)} (transparent huge pages), then, where neither exists,
 * ordinary memory. The backing is read back from {@code /proc/self/smaps}: it is never assumed.
 *
 * <p>The mapping's segment belongs to a shared arena whose closing unmaps it: a segment (or a
 * netmem's slice of it) used after {@link #unmap()} throws instead of reading whatever the
 * kernel maps there next.
 */
final class HugeRegion {

    /** What the kernel gave. */
    enum Backing {
        HUGETLB, THP, NONE
    }

    final MemorySegment memory;
    final long hugePageSize;
    final int count;
    final Backing backing;
    /** Bytes of the region the kernel backs with huge pages, per smaps. */
    final long hugeBytes;
    final String note;
    /** Owns the mapping; closing it unmaps. Null for ordinary memory, which the GC frees. */
    private final Arena arena;
    private boolean unmapped;

    private HugeRegion(MemorySegment memory, long hugePageSize, int count, Backing backing, long hugeBytes, String note,
            Arena arena) {
        this.memory = memory;
        this.hugePageSize = hugePageSize;
        this.count = count;
        this.backing = backing;
        this.hugeBytes = hugeBytes;
        this.note = note;
        this.arena = arena;
    }

    /** The mapping at {@code address} as a segment of a new shared arena that unmaps it on close. */
    private static Scoped scoped(Mmap m, long address, long length) {
        Arena arena = Arena.ofShared();
        MemorySegment seg = MemorySegment.ofAddress(address).reinterpret(length, arena, s -> {
            Mmap.Result r = m.munmap(address, length);
            if (r.failed()) {
                System.getLogger(HugeRegion.class.getName()).log(System.Logger.Level.ERROR,
                        "munmap of " + length + " bytes failed with errno " + r.errno());
            }
        });
        return new Scoped(seg, arena);
    }

    private record Scoped(MemorySegment segment, Arena arena) {
    }

    static HugeRegion map(int count, long hugePageSize, boolean tryHugetlb) {
        long length = count * hugePageSize;
        Mmap m = new Mmap();
        if (!m.available()) {
            return ordinary(count, hugePageSize, "mmap is not available on this platform: ordinary pages");
        }
        String why = "";
        if (tryHugetlb) {
            int log2 = Long.numberOfTrailingZeros(hugePageSize);
            Mmap.Result r = m.mmap(length, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_HUGETLB
                    | (log2 << Mmap.MAP_HUGE_SHIFT));
            if (!r.failed()) {
                Scoped sc = scoped(m, r.value(), length);
                touch(sc.segment(), hugePageSize);
                long huge = Math.min(length, hugeBytes(r.value(), true));
                return new HugeRegion(sc.segment(), hugePageSize, count, huge > 0 ? Backing.HUGETLB : Backing.NONE, huge,
                        "hugetlbfs pages", sc.arena());
            }
            why = "MAP_HUGETLB failed with errno " + r.errno() + (r.errno() == Mmap.ENOMEM
                    ? " (no hugetlbfs pages reserved: /proc/sys/vm/nr_hugepages)" : "") + "; ";
        }
        if (hugePageSize != 2L << 20) {
            throw Checks.invalid("page_size", hugePageSize, "2M, or 1G with hugetlbfs pages reserved; " + why
                    + "transparent huge pages are 2 MiB only");
        }
        // Over-map by one huge page to align the start, then give back the excess.
        Mmap.Result r = m.mmap(length + hugePageSize, Mmap.MAP_PRIVATE | Mmap.MAP_ANONYMOUS | Mmap.MAP_NORESERVE);
        if (r.failed()) {
            throw new IllegalStateException("mmap of " + length + " bytes failed with errno " + r.errno());
        }
        long start = (r.value() + hugePageSize - 1) & -hugePageSize;
        if (start > r.value()) {
            m.munmap(r.value(), start - r.value());
        }
        long tail = r.value() + length + hugePageSize - (start + length);
        if (tail > 0) {
            m.munmap(start + length, tail);
        }
        Mmap.Result adv = m.madvise(start, length, Mmap.MADV_HUGEPAGE);
        Scoped sc = scoped(m, start, length);
        MemorySegment seg = sc.segment();
        touch(seg, 4096);
        // smaps reports the whole VMA; our madvised mapping is its own VMA, but cap it anyway.
        long huge = Math.min(length, hugeBytes(start, false));
        String thp = Smaps.thpMode();
        String note = why + "transparent huge pages (THP mode " + thp + ")"
                + (adv.failed() ? ", madvise failed with errno " + adv.errno() : "");
        return new HugeRegion(seg, hugePageSize, count, huge > 0 ? Backing.THP : Backing.NONE, huge, note, sc.arena());
    }

    private static HugeRegion ordinary(int count, long hugePageSize, String note) {
        MemorySegment seg = Arena.ofAuto().allocate(count * hugePageSize, hugePageSize);
        return new HugeRegion(seg, hugePageSize, count, Backing.NONE, 0, note, null);
    }

    /** Faults every page in now, so the kernel picks the backing before traffic arrives. */
    private static void touch(MemorySegment seg, long step) {
        for (long off = 0; off < seg.byteSize(); off += step) {
            seg.set(ValueLayout.JAVA_BYTE, off, (byte) 0);
        }
    }

    private static long hugeBytes(long address, boolean hugetlb) {
        try {
            Smaps.Mapping map = Smaps.read(address);
            if (map == null) {
                return 0;
            }
            return hugetlb ? map.hugetlb() : map.anonHugePages();
        } catch (IOException e) {
            return 0;
        }
    }

    /** The i-th huge page. */
    MemorySegment page(int i) {
        return memory.asSlice(i * hugePageSize, hugePageSize);
    }

    /** Huge pages the kernel really backs (smaps), of {@link #count}. */
    long hugePagesObtained() {
        return hugeBytes / hugePageSize;
    }

    /**
     * Returns the memory to the kernel, by closing its arena: every segment of it is invalid from
     * then on. Only once, and only when no page of it is in use.
     */
    synchronized void unmap() {
        if (unmapped || arena == null) {
            return;
        }
        unmapped = true;
        arena.close();
    }

    synchronized boolean isUnmapped() {
        return unmapped;
    }

    @Override
    public String toString() {
        return count + " x " + (hugePageSize >> 20) + " MiB at 0x" + Long.toHexString(memory.address()) + ", backing "
                + backing.name().toLowerCase(java.util.Locale.ROOT) + " (" + hugePagesObtained() + " huge pages per smaps; "
                + note + ")";
    }
}
