package pagepool.provider.devmem;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import pagepool.tck.ConformanceReport;
import pagepool.tck.ProviderConformance;

/**
 * A binding's provider keeps the provider contract's promises, as the conformance kit checks them
 * for any provider: each promise on a provider of its own, over a buffer of its own.
 */
class DevmemConformanceTest {

    private final List<DmaBuf> buffers = new ArrayList<>();

    @AfterEach
    void free() {
        buffers.forEach(DmaBuf::free);
    }

    private DevmemProvider fresh() {
        DmaBuf buffer = new DmaBuf(buffers.size() + 1, 1024 * 4096L, "tck", DevmemRegistry.IOVA_BASE);
        buffers.add(buffer);
        return new DevmemProvider(buffers.size(), buffer, "sim0", List.of(0), () -> { });
    }

    @Test
    void aBindingsProviderKeepsEveryPromise() {
        ConformanceReport r = ProviderConformance.check(this::fresh);
        System.out.println(r);
        assertTrue(r.passed(), r::toString);
        // Device memory: the promises about the bytes of a page do not apply, and say so.
        assertEquals(ConformanceReport.Verdict.SKIP, r.result("untouched-while-out").verdict(), r::toString);
    }
}
