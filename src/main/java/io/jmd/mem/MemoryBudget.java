package io.jmd.mem;

import io.jmd.sync.Scheduler;
import io.jmd.sync.WaitQueue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The process-wide memory budget for I/O data and request state. Everything jmd allocates on the
 * I/O path is charged here, so overload turns into waiting (backpressure), never growth.
 *
 * <p>Two parts: <b>reserves</b>, taken once at start-up by pools for their guaranteed minimum
 * (the sum that lets one request always finish, written beside each pool), and the <b>shared</b>
 * rest, charged and uncharged as requests come and go. Reserves can never be charged by others.
 */
public final class MemoryBudget {
    /**
     * Memory that a holder keeps for its own reuse but can give back at once, without waiting (the
     * buffer cache's free lists). A failing charge asks reclaimers before it gives up, so cached
     * memory never starves other users of the budget.
     */
    public interface Reclaimer {
        /**
         * Uncharges (via {@link #uncharge}) about {@code wantedBytes} or more if it can; never
         * blocks, never charges. Returns the bytes given back.
         */
        long reclaim(long wantedBytes);
    }

    private final String name;
    private final long totalBytes;
    /**
     * Reserved plus charged: the one counter admission decisions compare-and-set, so that a
     * reserve and a charge racing cannot both fit into the same free bytes.
     */
    private final AtomicLong usedBytes = new AtomicLong();
    /** The reserved part of {@link #usedBytes}, for reports and the charge-can-never-fit check. */
    private final AtomicLong reservedBytes = new AtomicLong();
    /** The charged part of {@link #usedBytes}, for reports. */
    private final AtomicLong chargedBytes = new AtomicLong();
    private final List<Reclaimer> reclaimers = new CopyOnWriteArrayList<>();
    private final WaitQueue freed;

    public MemoryBudget(Scheduler scheduler, String name, long totalBytes) {
        if (totalBytes <= 0) {
            throw new IllegalArgumentException("memory budget must be positive: " + totalBytes);
        }
        this.name = name;
        this.totalBytes = totalBytes;
        this.freed = new WaitQueue(scheduler, "budget " + name);
    }

    public long totalBytes() {
        return totalBytes;
    }

    public long reservedBytes() {
        return reservedBytes.get();
    }

    public long chargedBytes() {
        return chargedBytes.get();
    }

    /** Bytes the shared part can still give. */
    public long availableBytes() {
        return totalBytes - usedBytes.get();
    }

    /** Registers memory that can be given back on demand (see {@link Reclaimer}). */
    public void addReclaimer(Reclaimer reclaimer) {
        reclaimers.add(reclaimer);
    }

    /** Takes {@code bytes} of the total if they fit now. */
    private boolean tryUse(long bytes) {
        while (true) {
            long u = usedBytes.get();
            if (u + bytes > totalBytes) {
                return false;
            }
            if (usedBytes.compareAndSet(u, u + bytes)) {
                return true;
            }
        }
    }

    /**
     * Sets aside {@code bytes} for a pool's reserve, at start-up. Throws with a clear message if the
     * budget is too small: a configuration error, found before any I/O.
     */
    public void reserve(String what, long bytes) {
        assert bytes >= 0 : "negative reserve";
        if (!tryUse(bytes) && !(reclaim(bytes) && tryUse(bytes))) {
            throw new IllegalStateException("memory budget " + name + " (" + totalBytes + " bytes) cannot reserve "
                + bytes + " bytes for " + what + ": " + reservedBytes.get() + " already reserved, "
                + chargedBytes.get() + " in use");
        }
        reservedBytes.addAndGet(bytes);
    }

    /** Returns a reserve (pool shutdown). */
    public void unreserve(long bytes) {
        long after = reservedBytes.addAndGet(-bytes);
        assert after >= 0 : name + ": reserves went negative";
        long used = usedBytes.addAndGet(-bytes);
        assert used >= 0 : name + ": use went negative";
        freed.wakeAll();
    }

    /**
     * Charges {@code bytes} to the shared part if they are available now, asking the reclaimers
     * (cached buffers) for them first if not. Never blocks.
     */
    public boolean tryCharge(long bytes) {
        assert bytes >= 0 : "negative charge";
        if (!tryUse(bytes) && !(reclaim(bytes) && tryUse(bytes))) {
            return false;
        }
        chargedBytes.addAndGet(bytes);
        return true;
    }

    /** Asks the reclaimers for what {@code bytes} lacks; true if any gave something back. */
    private boolean reclaim(long bytes) {
        boolean any = false;
        for (Reclaimer r : reclaimers) {
            long wanted = bytes - availableBytes();
            if (wanted <= 0) {
                return true;
            }
            any |= r.reclaim(wanted) > 0;
        }
        return any;
    }

    /**
     * Charges {@code bytes}, waiting for others to uncharge. Only for threads that I/O progress
     * does not depend on (request admission), never for the array thread or completions: the
     * checker flags an I/O-progress caller.
     */
    public void charge(long bytes) {
        if (bytes > totalBytes - reservedBytes.get()) {
            throw new IllegalArgumentException("charge of " + bytes + " bytes can never fit budget " + name
                + " (" + (totalBytes - reservedBytes.get()) + " shared bytes)");
        }
        Scheduler s = freed.scheduler();
        s.checker().beforeUnreservedMemoryWait(s.current(), freed);
        // Through the queue even when it fits: the checker runs on every blocking call.
        freed.waitUntil(() -> tryCharge(bytes));
    }

    public void uncharge(long bytes) {
        long after = chargedBytes.addAndGet(-bytes);
        assert after >= 0 : name + ": charges went negative";
        long used = usedBytes.addAndGet(-bytes);
        assert used >= 0 : name + ": use went negative";
        freed.wakeAll();
    }

    /**
     * Where everyone waiting for memory waits: woken by uncharge, unreserve, and by a buffer going
     * back to the cache (cached memory can be reclaimed by a waiter's retry).
     */
    WaitQueue freedQueue() {
        return freed;
    }

    @Override
    public String toString() {
        return name + "[total=" + totalBytes + " reserved=" + reservedBytes.get() + " charged=" + chargedBytes.get() + "]";
    }
}
