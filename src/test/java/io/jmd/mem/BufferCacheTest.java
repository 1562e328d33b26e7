package io.jmd.mem;

import io.jmd.sync.RealScheduler;
import io.jmd.testutil.Schedulers;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BufferCacheTest {
    private final RealScheduler scheduler = Schedulers.throwing();

    private BufferCache cache(MemoryBudget budget) {
        return new BufferCache(scheduler, budget, true);
    }

    @Test
    void sizeClassesArePowersOfTwoFrom4KiB() {
        assertEquals(12, BufferCache.classOf(1));
        assertEquals(12, BufferCache.classOf(4096));
        assertEquals(13, BufferCache.classOf(4097));
        assertEquals(13, BufferCache.classOf(8192));
        assertEquals(20, BufferCache.classOf(1 << 20));
        assertEquals(21, BufferCache.classOf((1 << 20) + 1));
        assertEquals(BufferCache.MAX_CLASS_SHIFT, BufferCache.classOf(1L << BufferCache.MAX_CLASS_SHIFT));
        assertThrows(IllegalArgumentException.class, () -> BufferCache.classOf(0));
        assertThrows(IllegalArgumentException.class, () -> BufferCache.classOf(-1));
        assertThrows(IllegalArgumentException.class, () -> BufferCache.classOf((1L << BufferCache.MAX_CLASS_SHIFT) + 1));
    }

    @Test
    void buffersAre4096AlignedAndSizedToTheirClass() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 64L << 20);
        BufferCache cache = cache(budget);
        long[] sizes = {1, 512, 4096, 4097, 12_288, 65_536, 1 << 20, 3 << 20};
        List<Buffer> held = new ArrayList<>();
        long charged = 0;
        for (long size : sizes) {
            Buffer b = cache.allocate(size);
            held.add(b);
            long capacity = 1L << BufferCache.classOf(size);
            charged += capacity;
            assertEquals(0, b.segment().address() % BufferCache.ALIGNMENT_BYTES, "aligned: " + size);
            assertEquals(size, b.lengthBytes());
            assertEquals(size, b.segment().byteSize());
            assertEquals(capacity, b.capacityBytes());
            assertEquals(charged, budget.chargedBytes(), "charged by capacity");
            b.segment().set(ValueLayout.JAVA_BYTE, size - 1, (byte) 7);
        }
        assertEquals(sizes.length, cache.liveBuffers());
        for (Buffer b : held) {
            b.release();
        }
        assertEquals(0, cache.liveBuffers());
        assertEquals(charged, cache.cachedBytes(), "released buffers are cached, still charged");
        assertEquals(charged, budget.chargedBytes());
        cache.trim();
        assertEquals(0, cache.cachedBytes());
        assertEquals(0, budget.chargedBytes());
        cache.assertNoLeaks();
    }

    @Test
    void aReleasedBufferIsReusedForItsClass() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 1 << 20);
        BufferCache cache = cache(budget);
        Buffer a = cache.allocate(5000);
        long address = a.segment().address();
        a.release();
        Buffer b = cache.allocate(8000);
        assertEquals(address, b.segment().address(), "same class: cached memory reused");
        assertEquals(8192, budget.chargedBytes());
        b.release();
        cache.assertNoLeaks();
    }

    @Test
    void retainAndReleaseCountReferences() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 1 << 20);
        BufferCache cache = cache(budget);
        Buffer b = cache.allocate(4096);
        assertEquals(1, b.refCount());
        assertSame(b, b.retain());
        b.retain();
        assertEquals(3, b.refCount());
        b.release();
        b.release();
        assertEquals(1, cache.liveBuffers(), "still referenced once");
        b.release();
        assertEquals(0, cache.liveBuffers());
        assertThrows(IllegalStateException.class, b::release, "released more often than retained");
        cache.assertNoLeaks();
    }

    @Test
    void mirrorWritesShareOneBuffer() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 1 << 20);
        BufferCache cache = cache(budget);
        Buffer b = cache.allocate(65_536);
        int mirrors = 4;
        for (int i = 0; i < mirrors; i++) {
            b.retain();
        }
        b.release(); // the submitter's reference, after queueing every mirror write (seed 002)
        TestThreads.runConcurrently(mirrors, i -> {
            assertEquals(0, b.slice(0, 4096).address() % 4096);
            b.release();
        });
        assertEquals(0, cache.liveBuffers());
        cache.assertNoLeaks();
    }

    @Test
    void leakCheckNamesTheAllocationSite() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 1 << 20);
        BufferCache cache = cache(budget);
        Buffer leaked = allocateAndForget(cache);
        AssertionError e = assertThrows(AssertionError.class, cache::assertNoLeaks);
        assertTrue(e.getMessage().contains("1 buffer(s) leaked"), e.getMessage());
        assertTrue(e.getMessage().contains("allocateAndForget"), "names the allocating method:\n" + e.getMessage());
        leaked.release();
        cache.assertNoLeaks();
    }

    private static Buffer allocateAndForget(BufferCache cache) {
        return cache.allocate(12_345);
    }

    @Test
    void allocateWaitsWhenTheBudgetIsExhaustedAndProceedsOnRelease() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 16_384);
        BufferCache cache = cache(budget);
        Buffer a = cache.allocate(16_384);
        assertNull(cache.tryAllocate(4096));
        AtomicReference<Buffer> got = new AtomicReference<>();
        Thread t = TestThreads.startDaemon("allocator", () -> got.set(cache.allocate(4096)));
        TestThreads.sleepMillis(50);
        assertNull(got.get(), "must wait: the budget is exhausted");
        a.release();
        TestThreads.joinAll(List.of(t));
        assertNotNull(got.get());
        assertEquals(4096, budget.chargedBytes(), "the cached 16 KiB buffer was reclaimed for the 4 KiB one");
        got.get().release();
        cache.assertNoLeaks();
    }

    /**
     * Bug: allocate() waited on the cache's own queue, which only buffer releases woke; memory
     * given back to the budget by anyone else (a mempool free, an uncharge) never woke it.
     */
    @Test
    void allocateWakesWhenOtherBudgetUsersGiveMemoryBack() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 8192);
        BufferCache cache = cache(budget);
        Buffer mine = cache.allocate(4096);
        assertTrue(budget.tryCharge(4096), "some other user takes the rest");
        AtomicReference<Buffer> got = new AtomicReference<>();
        Thread t = TestThreads.startDaemon("allocator", () -> got.set(cache.allocate(4096)));
        TestThreads.sleepMillis(50);
        assertNull(got.get());
        budget.uncharge(4096);
        TestThreads.joinAll(List.of(t));
        got.get().release();
        mine.release();
        cache.assertNoLeaks();
    }

    /** Bug: the cache's free lists kept budget memory that every other budget user waited for in vain. */
    @Test
    void cachedBuffersAreReclaimedForOtherBudgetUsers() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 1 << 20);
        BufferCache cache = cache(budget);
        cache.allocate(1 << 20).release();
        assertEquals(1 << 20, cache.cachedBytes());
        assertTrue(budget.tryCharge(4096), "cached, unused memory must yield to a charge");
        assertEquals(0, cache.cachedBytes());
        budget.uncharge(4096);
        budget.charge(1 << 20); // the blocking form must not wait for it either
        budget.uncharge(1 << 20);
        assertEquals(0, budget.chargedBytes());
    }

    /**
     * Bug: trim() uncharged the budget, but the memory came from an automatic arena and stayed
     * mapped until some garbage collection: the process could hold far more than its budget.
     */
    @Test
    void trimFreesTheMemoryAtOnce() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 1 << 20);
        BufferCache cache = cache(budget);
        Buffer b = cache.allocate(65_536);
        MemorySegment stale = b.segment();
        b.release();
        cache.trim();
        assertFalse(stale.scope().isAlive(), "trimmed memory is freed, not left to the GC");
        assertThrows(IllegalStateException.class, () -> stale.get(ValueLayout.JAVA_BYTE, 0),
            "a stale view fails instead of reading memory that may belong to someone else");
    }

    /**
     * Bug: the cache recycled Buffer objects themselves, so a holder that released once too often
     * released the next owner's reference and freed its buffer under it.
     */
    @Test
    void aStaleReleaseCannotFreeTheNextOwnersBuffer() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 1 << 20);
        BufferCache cache = cache(budget);
        Buffer first = cache.allocate(4096);
        first.release();
        Buffer second = cache.allocate(4096);
        assertThrows(IllegalStateException.class, first::release, "a release too many is caught");
        assertEquals(1, second.refCount(), "the new owner's reference is untouched");
        assertEquals(1, cache.liveBuffers());
        second.release();
        cache.assertNoLeaks();
    }

    @Test
    void concurrentAllocateAndReleaseStayWithinBudget() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 256 * 1024);
        BufferCache cache = cache(budget);
        TestThreads.runConcurrently(8, i -> {
            for (int n = 0; n < 5_000; n++) {
                long size = 4096L << ((i + n) % 5); // 4 KiB .. 64 KiB: classes compete
                Buffer b = cache.allocate(size);
                assertTrue(budget.chargedBytes() <= budget.totalBytes());
                b.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) i);
                assertEquals((byte) i, b.segment().get(ValueLayout.JAVA_BYTE, 0), "nobody else writes my buffer");
                b.release();
            }
        });
        assertEquals(0, cache.liveBuffers());
        cache.trim();
        assertEquals(0, budget.chargedBytes());
        cache.assertNoLeaks();
    }
}
