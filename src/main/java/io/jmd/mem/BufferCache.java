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
 * reuse while the budget is not wanted elsewhere; {@link #trim()} gives them back.
 *
 * <p>Leak check: with tracking on (tests), every live buffer remembers where it was allocated, and
 * {@link #assertNoLeaks()} names them.
 */
public final class BufferCache {
    public static final int ALIGNMENT_BYTES = 4096;
    public static final int MIN_CLASS_SHIFT = 12; // 4 KiB
    public static final int MAX_CLASS_SHIFT = 26; // 64 MiB: a 32 MiB NBD payload plus headroom

    private final MemoryBudget budget;
    private final boolean tracking;
    private final Arena arena = Arena.ofAuto();
    @SuppressWarnings("unchecked")
    private final ConcurrentLinkedDeque<Buffer>[] free = new ConcurrentLinkedDeque[MAX_CLASS_SHIFT + 1];
    private final Set<Buffer> live = ConcurrentHashMap.newKeySet();
    private final AtomicLong liveCount = new AtomicLong();
    private final AtomicLong cachedBytes = new AtomicLong();
    private final WaitQueue released;

    public BufferCache(Scheduler scheduler, MemoryBudget budget, boolean tracking) {
        this.budget = budget;
        this.tracking = tracking;
        this.released = new WaitQueue(scheduler, "buffers");
        for (int i = MIN_CLASS_SHIFT; i <= MAX_CLASS_SHIFT; i++) {
            free[i] = new ConcurrentLinkedDeque<>();
        }
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
        Buffer b = free[c].poll();
        if (b != null) {
            cachedBytes.addAndGet(-(1L << c));
        } else {
            if (!budget.tryCharge(1L << c) && !(reclaimOther(c) && budget.tryCharge(1L << c))) {
                return null;
            }
            MemorySegment m = arena.allocate(1L << c, ALIGNMENT_BYTES);
            b = new Buffer(this, m, c);
        }
        b.open(bytes);
        liveCount.incrementAndGet();
        if (tracking) {
            b.allocatedAt = new Throwable("buffer of " + bytes + " bytes allocated here");
            live.add(b);
        }
        return b;
    }

    /**
     * A buffer of {@code bytes}, waiting for memory to be released. For request admission only
     * (threads that I/O progress does not depend on).
     */
    public Buffer allocate(long bytes) {
        Buffer b = tryAllocate(bytes);
        if (b == null) {
            Buffer[] got = new Buffer[1];
            released.waitUntil(() -> (got[0] = tryAllocate(bytes)) != null);
            b = got[0];
        }
        return b;
    }

    /** Frees cached buffers of other classes so class {@code c} can be charged. */
    private boolean reclaimOther(int c) {
        boolean any = false;
        for (int i = MIN_CLASS_SHIFT; i <= MAX_CLASS_SHIFT && budget.availableBytes() < (1L << c); i++) {
            Buffer b;
            while (budget.availableBytes() < (1L << c) && (b = free[i].poll()) != null) {
                cachedBytes.addAndGet(-(1L << i));
                budget.uncharge(1L << i);
                any = true;
            }
        }
        return any;
    }

    void recycle(Buffer b) {
        liveCount.decrementAndGet();
        if (tracking) {
            live.remove(b);
            b.allocatedAt = null;
        }
        free[b.sizeClass()].push(b);
        cachedBytes.addAndGet(1L << b.sizeClass());
        released.wakeAll();
    }

    /** Returns every cached buffer's memory to the budget. */
    public void trim() {
        for (int i = MIN_CLASS_SHIFT; i <= MAX_CLASS_SHIFT; i++) {
            Buffer b;
            while ((b = free[i].poll()) != null) {
                cachedBytes.addAndGet(-(1L << i));
                budget.uncharge(1L << i);
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
            StackTraceElement[] st = t == null ? new StackTraceElement[0] : t.getStackTrace();
            StringBuilder sb = new StringBuilder(b.lengthBytes() + " bytes, refs " + b.refCount());
            for (int i = 0; i < Math.min(8, st.length); i++) {
                sb.append("\n      at ").append(st[i]);
            }
            where.add(sb.toString());
        }
        throw new AssertionError(liveCount.get() + " buffer(s) leaked:\n    " + String.join("\n    ", where));
    }
}
