package pagepool.kit.driver;

import java.util.ArrayList;
import java.util.List;

import pagepool.api.Netmem;
import pagepool.api.PagePool;

/**
 * Pages of a queue's pool kept outside it by {@code pp_hold} (as a consumer that never lets go
 * would), each with its pool and generation so that it goes back where it came from even after
 * the queue moved to other memory. Any thread.
 */
final class HeldPages {

    private record Held(Netmem page, PagePool pool, int generation) {
    }

    private final List<Held> held = new ArrayList<>();

    synchronized void add(Netmem page, PagePool pool) {
        held.add(new Held(page, pool, page.generation()));
    }

    /** Gives every held page back, as a consumer would; returns how many. */
    int releaseAll() {
        List<Held> out;
        synchronized (this) {
            out = List.copyOf(held);
            held.clear();
        }
        for (Held h : out) {
            h.pool().release(h.page(), h.generation());
        }
        return out.size();
    }

    synchronized int count() {
        return held.size();
    }
}
