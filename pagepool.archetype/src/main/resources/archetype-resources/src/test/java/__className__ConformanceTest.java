package ${package};

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import pagepool.tck.ConformanceReport;
import pagepool.tck.ProviderConformance;

/** The provider keeps every promise of pagepool's provider contract (the conformance kit). */
class ${className}ConformanceTest {

    @TestFactory
    Stream<DynamicTest> keepsEveryPromise() {
        return ProviderConformance.tests(() -> new ${className}(1024));
    }

    @Test
    void report() {
        ConformanceReport r = ProviderConformance.check(() -> new ${className}(1024));
        System.out.println(r);
        assertTrue(r.passed(), r::toString);
    }
}
