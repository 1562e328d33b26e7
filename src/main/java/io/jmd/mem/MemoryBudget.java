package io.jmd.mem;

import io.jmd.sync.Scheduler;
import io.jmd.sync.WaitQueue;

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
    private final String name;
    private final long totalBytes;
    private final AtomicLong reservedBytes = new AtomicLong();
    private final AtomicLong chargedBytes = new AtomicLong();
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
        return totalBytes - reservedBytes.get() - chargedBytes.get();
    }

    /**
     * Sets aside {@code bytes} for a pool's reserve, at start-up. Throws with a clear message if the
     * budget is too small: a configuration error, found before any I/O.
     */
    public void reserve(String what, long bytes) {
        while (true) {
            long r = reservedBytes.get();
            if (r + bytes + chargedBytes.get() > totalBytes) {
                throw new IllegalStateException("memory budget " + name + " (" + totalBytes + " bytes) cannot reserve "
                    + bytes + " bytes for " + what + ": " + r + " already reserved, " + chargedBytes.get() + " in use");
            }
            if (reservedBytes.compareAndSet(r, r + bytes)) {
                return;
            }
        }
    }

    /** Returns a reserve (pool shutdown). */
    public void unreserve(long bytes) {
        long after = reservedBytes.addAndGet(-bytes);
        assert after >= 0 : name + ": reserves went negative";
        freed.wakeAll();
    }

    /** Charges {@code bytes} to the shared part if they are available now. */
    public boolean tryCharge(long bytes) {
        assert bytes >= 0 : "negative charge";
        while (true) {
            long c = chargedBytes.get();
            if (c + bytes + reservedBytes.get() > totalBytes) {
                return false;
            }
            if (chargedBytes.compareAndSet(c, c + bytes)) {
                return true;
            }
        }
    }

    /**
     * Charges {@code bytes}, waiting for others to uncharge. Only for threads that I/O progress
     * does not depend on (request admission), never for the array thread or completions.
     */
    public void charge(long bytes) {
        if (bytes > totalBytes - reservedBytes.get()) {
            throw new IllegalArgumentException("charge of " + bytes + " bytes can never fit budget " + name
                + " (" + (totalBytes - reservedBytes.get()) + " shared bytes)");
        }
        if (!tryCharge(bytes)) {
            freed.waitUntil(() -> tryCharge(bytes));
        }
    }

    public void uncharge(long bytes) {
        long after = chargedBytes.addAndGet(-bytes);
        assert after >= 0 : name + ": charges went negative";
        freed.wakeAll();
    }

    WaitQueue freedQueue() {
        return freed;
    }

    @Override
    public String toString() {
        return name + "[total=" + totalBytes + " reserved=" + reservedBytes.get() + " charged=" + chargedBytes.get() + "]";
    }
}
