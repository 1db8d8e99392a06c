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
        public boolean allocFrag(int size, Frag out) {
            throw new AssertionError();
        }

        @Override
        public void recycleDirect(Netmem netmem) {
            release(netmem);
        }

        @Override
        public void syncForDevice(Netmem netmem, int size) {
        }

        @Override
        public void nidChanged(int nid) {
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
        TokenTable mine = new TokenTable(1, 16);
        TokenTable other = new TokenTable(2, 16);
        long t = mine.give(chunk(0), pool, null);
        long foreign = other.give(chunk(1), pool, null);

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
    void atMost128TokensPerCall() {
        TokenTable table = new TokenTable(1, 256);
        CountingPool pool = new CountingPool();
        long[] tokens = new long[129];
        for (int i = 0; i < 129; i++) {
            tokens[i] = table.give(chunk(i), pool, null);
        }
        assertEquals("tokens: 129 (expected: at most 128 per call, as SO_DEVMEM_DONTNEED)",
                assertThrows(IllegalArgumentException.class, () -> table.dontneed(tokens, 129)).getMessage());
        assertEquals(0, pool.released.size(), "none taken");
        assertEquals(128, table.dontneed(tokens, 128));
        assertEquals(1, table.outstanding());
    }

    @Test
    void closingTheSocketReturnsEveryTokenStillOut() {
        TokenTable table = new TokenTable(1, 8);
        CountingPool pool = new CountingPool();
        for (int i = 0; i < 8; i++) {
            table.give(chunk(i), pool, null);
        }
        assertEquals(-1, table.give(chunk(8), pool, null), "full");
        assertEquals(8, table.close());
        assertEquals(8, pool.released.size());
        assertEquals(0, table.outstanding());
    }
}
