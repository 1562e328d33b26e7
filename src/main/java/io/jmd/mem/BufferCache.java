package io.jmd.mem;

import io.jmd.sync.Scheduler;
import io.jmd.sync.WaitQueue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Aligned off-heap buffers in power-of-two size classes, charged to a {@link MemoryBudget}.
 * Alignment is 4096 bytes, so any buffer can be used for O_DIRECT. Freed buffers are kept for
 * reuse while the budget is not wanted elsewhere: the cache is a {@link MemoryBudget.Reclaimer},
 * so any charge that does not fit frees cached memory first; {@link #trim()} gives all of it back.
 *
 * <p>Memory life: each slab has its own shared arena, closed when the slab leaves the cache
 * (reclaim, trim), so memory given back to the budget is given back to the OS at once rather than
 * whenever the GC runs, and a stale view of it fails instead of reading someone else's data.
 *
 * <p>Waiting: {@link #allocate} waits on the budget's own queue, which every return of memory
 * wakes (an uncharge by anyone, a buffer going back to this cache), so no release is missed.
 *
 * <p>Leak check: with tracking on (tests), every live buffer remembers where it was allocated, and
 * {@link #assertNoLeaks()} names them.
 */
public final class BufferCache {
    public static final int ALIGNMENT_BYTES = 4096;
    public static final int MIN_CLASS_SHIFT = 12; // 4 KiB
    public static final int MAX_CLASS_SHIFT = 26; // 64 MiB: a 32 MiB NBD payload plus headroom
    /** Frames of an allocation site printed per leaked buffer: the caller chain, not the cache. */
    private static final int LEAK_FRAMES = 8;

    /** One piece of memory of one size class and the arena that frees it. */
    record Slab(MemorySegment memory, int sizeClass, Arena arena) {
    }

    private final MemoryBudget budget;
    private final boolean tracking;
    @SuppressWarnings("unchecked")
    private final ConcurrentLinkedDeque<Slab>[] free = new ConcurrentLinkedDeque[MAX_CLASS_SHIFT + 1];
    private final Set<Buffer> live = ConcurrentHashMap.newKeySet();
    private final AtomicLong liveCount = new AtomicLong();
    private final AtomicLong cachedBytes = new AtomicLong();

    public BufferCache(Scheduler scheduler, MemoryBudget budget, boolean tracking) {
        this.budget = budget;
        this.tracking = tracking;
        for (int i = MIN_CLASS_SHIFT; i <= MAX_CLASS_SHIFT; i++) {
            free[i] = new ConcurrentLinkedDeque<>();
        }
        budget.addReclaimer(this::reclaim);
    }

    static int classOf(long bytes) {
        if (bytes <= 0 || bytes > (1L << MAX_CLASS_SHIFT)) {
            throw new IllegalArgumentException("buffer size out of range: " + bytes);
        }
        int shift = 64 - Long.numberOfLeadingZeros(bytes - 1);
        return Math.max(shift, MIN_CLASS_SHIFT);
    }

    /** A buffer of {@code bytes} if memory is there now, else null. Never blocks. */
    public Buffer tryAllocate(long bytes) {
        int c = classOf(bytes);
        Slab s = free[c].poll();
        if (s != null) {
            cachedBytes.addAndGet(-(1L << c));
        } else {
            // Charging may reclaim cached slabs of other classes (this cache is a reclaimer).
            if (!budget.tryCharge(1L << c)) {
                return null;
            }
            Arena arena = Arena.ofShared();
            s = new Slab(arena.allocate(1L << c, ALIGNMENT_BYTES), c, arena);
        }
        assert s.memory().address() % ALIGNMENT_BYTES == 0 : "misaligned slab";
        assert s.memory().byteSize() == 1L << c : "slab of the wrong class";
        Buffer b = new Buffer(this, s, bytes);
        liveCount.incrementAndGet();
        if (tracking) {
            b.allocatedAt = new Throwable("buffer of " + bytes + " bytes allocated here");
            live.add(b);
        }
        return b;
    }

    /**
     * A buffer of {@code bytes}, waiting for memory to be released. For request admission only
     * (threads that I/O progress does not depend on): the checker flags an I/O-progress caller.
     */
    public Buffer allocate(long bytes) {
        WaitQueue freed = budget.freedQueue();
        Scheduler s = freed.scheduler();
        s.checker().beforeUnreservedMemoryWait(s.current(), freed);
        // Through the queue even when memory is there: the checker runs on every blocking call.
        Buffer[] got = new Buffer[1];
        budget.freedQueue().waitUntil(() -> (got[0] = tryAllocate(bytes)) != null);
        return got[0];
    }

    /**
     * Gives cached memory back to the budget ({@link MemoryBudget.Reclaimer}): one slab big enough
     * if there is one, else the largest first until {@code wantedBytes} are freed. Never blocks.
     */
    private long reclaim(long wantedBytes) {
        int fit = wantedBytes > (1L << MAX_CLASS_SHIFT) ? MAX_CLASS_SHIFT + 1 : classOf(Math.max(1, wantedBytes));
        for (int i = fit; i <= MAX_CLASS_SHIFT; i++) {
            Slab s = free[i].poll();
            if (s != null) {
                return drop(s);
            }
        }
        long freed = 0;
        for (int i = Math.min(fit, MAX_CLASS_SHIFT); i >= MIN_CLASS_SHIFT && freed < wantedBytes; i--) {
            Slab s;
            while (freed < wantedBytes && (s = free[i].poll()) != null) {
                freed += drop(s);
            }
        }
        return freed;
    }

    /** Frees a slab taken off a free list: memory to the OS, its charge to the budget. */
    private long drop(Slab s) {
        long bytes = 1L << s.sizeClass();
        cachedBytes.addAndGet(-bytes);
        s.arena().close();
        budget.uncharge(bytes);
        return bytes;
    }

    void recycle(Buffer b) {
        liveCount.decrementAndGet();
        if (tracking) {
            live.remove(b);
            b.allocatedAt = null;
        }
        Slab s = b.slab();
        cachedBytes.addAndGet(1L << s.sizeClass());
        free[s.sizeClass()].push(s);
        // Cached memory is reclaimable by any waiter's retry: wake everyone waiting for memory.
        budget.freedQueue().wakeAll();
    }

    /** Returns every cached buffer's memory to the budget (and to the OS). */
    public void trim() {
        for (int i = MIN_CLASS_SHIFT; i <= MAX_CLASS_SHIFT; i++) {
            Slab s;
            while ((s = free[i].poll()) != null) {
                drop(s);
            }
        }
    }

    public long liveBuffers() {
        return liveCount.get();
    }

    public long cachedBytes() {
        return cachedBytes.get();
    }

    /** Throws naming every live buffer and where it was allocated (tests; tracking on). */
    public void assertNoLeaks() {
        if (liveCount.get() == 0) {
            return;
        }
        List<String> where = new ArrayList<>();
        for (Buffer b : live) {
            Throwable t = b.allocatedAt;
            StringBuilder sb = new StringBuilder(b.lengthBytes() + " bytes, refs " + b.refCount());
            int printed = 0;
            for (StackTraceElement e : t == null ? new StackTraceElement[0] : t.getStackTrace()) {
                if (e.getClassName().equals(BufferCache.class.getName())) {
                    continue; // the cache's own frames say nothing about who leaked
                }
                if (printed++ == LEAK_FRAMES) {
                    break;
                }
                sb.append("\n      at ").append(e);
            }
            where.add(sb.toString());
        }
        throw new AssertionError(liveCount.get() + " buffer(s) leaked:\n    " + String.join("\n    ", where));
    }
}
