package com.example.pagepool.shm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import pagepool.api.MemoryArea;
import pagepool.api.Netmem;
import pagepool.api.provider.MemoryProvider;
import pagepool.api.provider.PoolContext;
import pagepool.api.provider.ProviderCapabilities;
import pagepool.api.provider.ProviderRefusedException;

/**
 * A memory provider whose pages live in a file of a shared-memory folder: each pool maps one file
 * of {@code pool.pages} pages ({@code FileChannel.map} into an arena, no native code) and carves it
 * into one {@link MemoryArea}. Another process that maps the same file reads what the NIC wrote into
 * a queue's pages, with no copy. The file goes when the pool is destroyed.
 */
@Component(service = MemoryProvider.class, configurationPid = "com.example.pagepool.shm",
        property = MemoryProvider.NAME + "=" + ShmProvider.NAME)
@Designate(ocd = ShmProvider.Config.class)
public final class ShmProvider implements MemoryProvider {

    public static final String NAME = "shm";

    @ObjectClassDefinition(name = "shm provider", description = "Pool pages in a shared-memory file")
    public @interface Config {
        @AttributeDefinition(description = "Folder of the pools' files")
        String dir() default "/dev/shm";

        @AttributeDefinition(description = "Pages of each pool's file (a pool asking for contiguous pages gets that"
                + " many instead)")
        int pool_pages() default 4096;
    }

    /** One pool's file, mapping and free pages. */
    private static final class PoolFile {
        final Path path;
        final Arena arena = Arena.ofShared();
        final ArrayDeque<Netmem> free = new ArrayDeque<>();

        PoolFile(Path path) {
            this.path = path;
        }
    }

    private final Path dir;
    private final int poolPages;

    @Activate
    public ShmProvider(Config config) {
        this(Path.of(config.dir()), config.pool_pages());
    }

    public ShmProvider(Path dir, int poolPages) {
        if (poolPages < 1) {
            throw new IllegalArgumentException("pool.pages: " + poolPages + " (expected: at least 1)");
        }
        this.dir = dir;
        this.poolPages = poolPages;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public ProviderCapabilities capabilities() {
        return ProviderCapabilities.hostPages();
    }

    /** Maps the pool's file now: a provider's slow work belongs in init, not in a page call. */
    @Override
    public void init(PoolContext pool) throws ProviderRefusedException {
        int pageSize = pool.params().pageSize();
        int pages = pool.params().contiguousPages() > 0 ? pool.params().contiguousPages() : poolPages;
        Path path = dir.resolve("pagepool-shm-" + ProcessHandle.current().pid() + "-" + pool.id() + "-"
                + System.nanoTime());
        PoolFile f = new PoolFile(path);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_WRITE, 0, (long) pages * pageSize, f.arena);
            for (Netmem n : pool.carve(MemoryArea.readable(NAME, m).pageShift(Integer.numberOfTrailingZeros(pageSize))
                    .build())) {
                f.free.add(n);
            }
        } catch (IOException | RuntimeException e) {
            f.arena.close();
            deleteQuietly(path);
            throw new ProviderRefusedException("cannot map " + pages + " pages in " + path + ": " + e.getMessage());
        }
        pool.attach(f);
    }

    @Override
    public int allocNetmems(PoolContext pool, Netmem[] batch, int max) {
        PoolFile f = (PoolFile) pool.attachment();
        synchronized (f) {
            int n = 0;
            while (n < max && !f.free.isEmpty()) {
                batch[n++] = f.free.poll();
            }
            return n;
        }
    }

    @Override
    public boolean releaseNetmem(PoolContext pool, Netmem netmem) {
        PoolFile f = (PoolFile) pool.attachment();
        synchronized (f) {
            f.free.add(netmem);
        }
        return false;
    }

    @Override
    public void destroy(PoolContext pool) {
        PoolFile f = (PoolFile) pool.attachment();
        f.arena.close(); // unmaps
        deleteQuietly(f.path);
    }

    @Override
    public Map<String, Object> describe(PoolContext pool) {
        PoolFile f = (PoolFile) pool.attachment();
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("file", f.path.toString());
        synchronized (f) {
            d.put("free-pages", f.free.size());
        }
        return d;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            throw new UncheckedIOException("delete " + p, e);
        }
    }
}
