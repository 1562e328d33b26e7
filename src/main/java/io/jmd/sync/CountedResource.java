package io.jmd.sync;

import java.util.concurrent.atomic.AtomicLong;

/**
 * A counted resource (a semaphore with a name): in-flight request slots, budget bytes. Releasing
 * never blocks, so it may be called from completion callbacks.
 */
public final class CountedResource implements Waitable {
    private final String name;
    private final long capacity;
    private final AtomicLong available;
    private final WaitQueue queue;

    public CountedResource(Scheduler scheduler, String name, long capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException(name + ": capacity must be positive, got " + capacity);
        }
        this.name = name;
        this.capacity = capacity;
        this.available = new AtomicLong(capacity);
        this.queue = new WaitQueue(scheduler, name);
    }

    @Override
    public String waitName() {
        return name;
    }

    public long capacity() {
        return capacity;
    }

    public long available() {
        return available.get();
    }

    /** Takes {@code n} units if they are there now. */
    public boolean tryAcquire(long n) {
        assert n > 0 && n <= capacity : name + ": bad acquire " + n + " of " + capacity;
        while (true) {
            long a = available.get();
            if (a < n) {
                return false;
            }
            if (available.compareAndSet(a, a - n)) {
                return true;
            }
        }
    }

    /** Takes {@code n} units, waiting until they are released. */
    public void acquire(long n) {
        // The checker runs on every blocking call, even when units are free (might-sleep).
        JmdThread me = queue.scheduler().current();
        queue.scheduler().checker().beforeBlock(me, this, false);
        if (!tryAcquire(n)) {
            queue.awaitChecked(me, () -> tryAcquire(n), Long.MAX_VALUE, this);
        }
    }

    /** Takes {@code n} units, waiting at most {@code timeoutNanos}; returns true if taken. */
    public boolean acquire(long n, long timeoutNanos) {
        return queue.waitUntil(() -> tryAcquire(n), timeoutNanos);
    }

    public void release(long n) {
        long after = available.addAndGet(n);
        assert after <= capacity : name + ": released past capacity " + after + " > " + capacity;
        queue.wakeAll();
    }
}
