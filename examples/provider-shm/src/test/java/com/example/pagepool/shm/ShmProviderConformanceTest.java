package com.example.pagepool.shm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import pagepool.tck.ConformanceReport;
import pagepool.tck.ProviderConformance;

/** The provider keeps every promise of pagepool's provider contract (the conformance kit). */
class ShmProviderConformanceTest {

    @TempDir
    Path dir;

    @TestFactory
    Stream<DynamicTest> keepsEveryPromise() {
        return ProviderConformance.tests(() -> new ShmProvider(dir, 1024));
    }

    @Test
    void reportAndNoFileLeftBehind() throws Exception {
        ConformanceReport r = ProviderConformance.check(() -> new ShmProvider(dir, 1024));
        System.out.println(r);
        assertTrue(r.passed(), r::toString);
        try (Stream<Path> left = Files.list(dir)) {
            assertTrue(left.findAny().isEmpty(), "every pool's file deleted at destroy");
        }
    }
}
