package pagepool.api;

/**
 * A fragment of a page: {@link PagePool#allocFrag} fills a caller-owned {@code Frag} so the hot
 * path allocates nothing. Fragments of one page share it through the pool's reference count;
 * each fragment is given back once with {@link PagePool#release} or {@link PagePool#recycleDirect}.
 */
public final class Frag {

    private Netmem netmem;
    private int offset;
    private int length;
    private int generation;

    public Netmem netmem() {
        return netmem;
    }

    /** Byte offset of the fragment in its page. */
    public int offset() {
        return offset;
    }

    public int length() {
        return length;
    }

    /** The page's generation when the fragment was cut, for {@link PagePool#release(Netmem, int)}. */
    public int generation() {
        return generation;
    }

    /** Filled by the pool. */
    public void set(Netmem netmem, int offset, int length, int generation) {
        this.netmem = netmem;
        this.offset = offset;
        this.length = length;
        this.generation = generation;
    }

    /** Forgets the fragment, so the descriptor no longer points at a page it gave back. */
    public void clear() {
        set(null, 0, 0, 0);
    }

    @Override
    public String toString() {
        return "frag[" + netmem + " +" + offset + " len " + length + "]";
    }
}
