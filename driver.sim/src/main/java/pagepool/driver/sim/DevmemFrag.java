package pagepool.driver.sim;

/**
 * What an application receives per frag of device memory, as the kernel's
 * {@code struct dmabuf_cmsg} ({@code SCM_DEVMEM_DMABUF}): which buffer, where in it, how long,
 * and the token to give back. Reused for every frag, so receiving allocates nothing.
 */
final class DevmemFrag {

    int buffer;
    long offset;
    int size;
    long token;

    void set(int buffer, long offset, int size, long token) {
        this.buffer = buffer;
        this.offset = offset;
        this.size = size;
        this.token = token;
    }

    @Override
    public String toString() {
        return "frag[dmabuf " + buffer + " +" + offset + " len " + size + " token 0x" + Long.toHexString(token) + "]";
    }
}
