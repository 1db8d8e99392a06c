package pagepool.api.devmem;

import java.util.List;

/**
 * A buffer bound to RX queues, and the use of its chunks (page-sized net_iovs).
 *
 * @param id binding id
 * @param buffer the buffer
 * @param device device name
 * @param queues queue indexes
 * @param provider the memory provider serving the binding's queues
 * @param chunks net_iovs carved from the buffer
 * @param chunksFree chunks in the free pool
 * @param chunksOut chunks handed to page pools (in rings, caches, or held by consumers)
 * @param state whether the binding serves its queues
 */
public record DevmemBindingInfo(long id, int buffer, String device, List<Integer> queues, String provider, long chunks,
        long chunksFree, long chunksOut, State state) {

    public DevmemBindingInfo {
        queues = List.copyOf(queues);
    }

    public enum State {
        /** Its queues run on the buffer. */
        BOUND,
        /** Unbound; waits for the chunks still out before the buffer is free. */
        DRAINING
    }
}
