package io.jmd.sync;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A one-shot event with an int result (0 or an errno), like Linux's struct completion. Completing
 * never blocks, so it may be called from completion callbacks.
 */
public final class Completion implements Waitable {
    private static final int PENDING = Integer.MIN_VALUE;

    private final WaitQueue queue;
    private final AtomicInteger result = new AtomicInteger(PENDING);

    public Completion(Scheduler scheduler, String name) {
        this.queue = new WaitQueue(scheduler, name);
    }

    @Override
    public String waitName() {
        return queue.waitName();
    }

    /** Completes with {@code value} (must not be Integer.MIN_VALUE). Only the first call counts. */
    public void complete(int value) {
        assert value != PENDING : "reserved completion value";
        // One compare-and-set: two racing completers must not both see PENDING and overwrite each
        // other, or a waiter could return one result and later read the other.
        result.compareAndSet(PENDING, value);
        queue.wakeAll();
    }

    public boolean isDone() {
        return result.get() != PENDING;
    }

    /** Waits for completion and returns the result. */
    public int await() {
        queue.await(this::isDone, this);
        return result.get();
    }

    /** Waits at most {@code timeoutNanos}; returns true if completed. */
    public boolean await(long timeoutNanos) {
        return queue.waitUntil(this::isDone, timeoutNanos);
    }

    /** Waits for an outside party (seed 004 check applies). */
    public boolean awaitOutside(long timeoutNanos) {
        return queue.waitOutside(this::isDone, timeoutNanos);
    }

    /** The result; only valid once {@link #isDone()}. */
    public int result() {
        assert isDone() : "completion " + waitName() + " not done";
        return result.get();
    }
}
