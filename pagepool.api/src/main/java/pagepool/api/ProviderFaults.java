package pagepool.api;

/**
 * What a memory provider threw, counted by the call that threw it. A provider is a plugin: the
 * pool guards every call into it, counts what it throws (exceptions and errors alike) and goes
 * on; the engine moves the queue off a provider that faults and quarantines one that keeps
 * faulting.
 *
 * @param init faults in {@code init}
 * @param alloc faults in {@code allocNetmems}, or netmems it returned that were not its to give
 * @param release faults in {@code releaseNetmem}; the page still counts as returned
 * @param destroy faults in {@code destroy}; the pool is destroyed all the same
 * @param other faults in {@code describe}, {@code uninstall} and device-memory access
 * @param last the last fault, e.g. {@code allocNetmems threw IllegalStateException: no slab},
 *        or empty
 */
public record ProviderFaults(long init, long alloc, long release, long destroy, long other, String last) {

    /** No fault. */
    public static final ProviderFaults NONE = new ProviderFaults(0, 0, 0, 0, 0, "");

    public ProviderFaults {
        last = last == null ? "" : last;
    }

    public long total() {
        return init + alloc + release + destroy + other;
    }
}
