package pagepool.driver.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import pagepool.api.Frag;
import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.PagePool;
import pagepool.api.PoolInfo;
import pagepool.api.PoolParams;
import pagepool.api.PoolStats;

/** Tokens for device-memory frags: owned by the socket that gave them, good once, returned in batches of 128. */
class TokenTableTest {

    /** Counts what comes back. */
    static final class CountingPool implements PagePool {
        @Override
        public void handOverNapi() {
        }

        @Override
        public void ref(Netmem netmem) {
            throw new UnsupportedOperationException();
        }

        final List<Netmem> released = new ArrayList<>();

        @Override
        public void release(Netmem netmem) {
            released.add(netmem);
        }

        @Override
        public int id() {
            return 1;
        }

        @Override
        public PoolParams params() {
            return PoolParams.builder().build();
        }

        @Override
        public Netmem alloc() {
            throw new AssertionError();
        }

        @Override
        public int alloc(Netmem[] out, int max) {
            throw new AssertionError();
        }

        @Override
        public void release(Netmem[] netmems, int[] generations, int count) {
            for (int i = 0; i < count; i++) {
                release(netmems[i]);
            }
        }

        @Override
        public boolean allocFrag(int size, Frag out) {
            throw new AssertionError();
        }

        @Override
        public void recycleDirect(Netmem netmem) {
            release(netmem);
        }

        @Override
        public void release(Netmem netmem, int generation) {
            release(netmem);
        }

        @Override
        public void recycleDirect(Netmem netmem, int generation) {
            release(netmem);
        }

        @Override
        public void nidChanged(int nid) {
        }

        @Override
        public boolean deviceWrite(Netmem netmem, int offset, java.lang.foreign.MemorySegment src, long srcOffset,
                int length) {
            throw new AssertionError();
        }

        @Override
        public boolean deviceRead(Netmem netmem, int offset, java.lang.foreign.MemorySegment dst, long dstOffset,
                int length) {
            throw new AssertionError();
        }

        @Override
        public PoolStats stats() {
            return null;
        }

        @Override
        public PoolInfo info() {
            return null;
        }

        @Override
        public void close() {
        }
    }

    private static Netmem chunk(int i) {
        return new Netmem(MemoryArea.unreadable("devmem-1", 1L << 30, 256 * 4096L).build(), i) { };
    }

    @Test
    void aTokenIsGoodOnceAtTheSocketThatGaveIt() {
        CountingPool pool = new CountingPool();
        TokenTable mine = new TokenTable(16);
        TokenTable other = new TokenTable(16);
        long t = mine.give(chunk(0), pool, 0, null);
        long foreign = other.give(chunk(1), pool, 0, null);

        assertEquals(0, mine.dontneed(new long[] {foreign}, 1), "another socket's token");
        assertEquals(1, mine.rejected);
        assertEquals(1, mine.dontneed(new long[] {t}, 1));
        assertEquals(0, mine.dontneed(new long[] {t}, 1), "the same token again");
        assertEquals(2, mine.rejected);
        assertEquals(List.of(chunk(0).dmaAddress()), pool.released.stream().map(Netmem::dmaAddress).toList(),
                "the frag came back once");
        assertEquals(0, mine.dontneed(new long[] {12345L}, 1), "a made-up token");
    }

    @Test
    void aTokenOfAnotherDeviceForTheSameSlotIsRefused() {
        // Two devices' sockets: the same slot in each, as when both hand out their first token.
        CountingPool pool = new CountingPool();
        TokenTable sim0 = new TokenTable(4);
        TokenTable sim1 = new TokenTable(4);
        long t0 = sim0.give(chunk(0), pool, 0, null);
        long t1 = sim1.give(chunk(1), pool, 0, null);
        assertEquals(t0 & ((1 << TokenTable.SLOT_BITS) - 1), t1 & ((1 << TokenTable.SLOT_BITS) - 1), "same slot");
        assertEquals(0, sim1.dontneed(new long[] {t0}, 1), "sim0's token does not free what sim1's application holds");
        assertEquals(1, sim1.outstanding());
        assertEquals(1, sim0.dontneed(new long[] {t0}, 1));
    }

    @Test
    void aStaleTokenOfAReusedSlotIsRefusedHoweverOftenTheSlotWasReused() {
        CountingPool pool = new CountingPool();
        TokenTable table = new TokenTable(1);
        long stale = table.give(chunk(0), pool, 0, null);
        table.dontneed(new long[] {stale}, 1);
        // More reuses than a 16-bit generation counts: nothing wraps back to the stale token.
        for (int i = 0; i < 70_000; i++) {
            long t = table.give(chunk(0), pool, 0, null);
            assertEquals(0, table.dontneed(new long[] {stale}, 1), "reuse " + i);
            assertEquals(1, table.dontneed(new long[] {t}, 1));
        }
        assertEquals(70_000, table.rejected);
    }

    @Test
    void atMost128TokensPerCall() {
        TokenTable table = new TokenTable(256);
        CountingPool pool = new CountingPool();
        long[] tokens = new long[129];
        for (int i = 0; i < 129; i++) {
            tokens[i] = table.give(chunk(i), pool, 0, null);
        }
        assertEquals("tokens: 129 (expected: at most 128 per call, as SO_DEVMEM_DONTNEED)",
                assertThrows(IllegalArgumentException.class, () -> table.dontneed(tokens, 129)).getMessage());
        assertEquals(0, pool.released.size(), "none taken");
        assertEquals(128, table.dontneed(tokens, 128));
        assertEquals(1, table.outstanding());
    }

    @Test
    void closingTheSocketReturnsEveryTokenStillOut() {
        TokenTable table = new TokenTable(8);
        CountingPool pool = new CountingPool();
        for (int i = 0; i < 8; i++) {
            table.give(chunk(i), pool, 0, null);
        }
        assertEquals(-1, table.give(chunk(8), pool, 0, null), "full");
        assertEquals(8, table.close());
        assertEquals(8, pool.released.size());
        assertEquals(0, table.outstanding());
    }
}
