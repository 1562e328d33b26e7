package io.jmd.sync;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * A wait queue in the style of Linux's wait_queue_head: threads wait until a condition over
 * state owned elsewhere becomes true; whoever changes that state calls {@link #wakeAll()}.
 *
 * <p>No lost wake-ups: a waiter enqueues itself <em>before</em> re-checking the condition, and a
 * waker changes the state (volatile or atomic) <em>before</em> waking; park has permit semantics.
 * The internal monitor guards only the waiter list and is never held across a park.
 */
public final class WaitQueue implements Waitable {
    private final Scheduler scheduler;
    private final String name;
    private final Supplier<List<JmdThread>> providers;
    private final List<JmdThread> waiters = new ArrayList<>(4); // guarded by itself
    /**
     * Threads registered in {@code waiters} (or about to re-check after registering). Volatile, so
     * that a waker can skip the monitor when nobody waits: a waiter increments it before it
     * re-checks its condition, a waker changes the state before it reads this count; with both
     * sides volatile (sequentially consistent) one of them sees the other, and no wake-up is lost.
     */
    private final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();

    public WaitQueue(Scheduler scheduler, String name) {
        this(scheduler, name, List::of);
    }

    /** {@code providers}: the threads that can make the condition true, for wait-for chains. */
    public WaitQueue(Scheduler scheduler, String name, Supplier<List<JmdThread>> providers) {
        this.scheduler = scheduler;
        this.name = name;
        this.providers = providers;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    @Override
    public String waitName() {
        return name;
    }

    @Override
    public List<JmdThread> providers() {
        return providers.get();
    }

    /** Waits until {@code condition} holds. */
    public void waitUntil(BooleanSupplier condition) {
        await(condition, Long.MAX_VALUE, false, this);
    }

    /** Waits until {@code condition} holds or {@code timeoutNanos} pass; returns the condition. */
    public boolean waitUntil(BooleanSupplier condition, long timeoutNanos) {
        long deadline = deadlineAfter(timeoutNanos);
        return await(condition, deadline, false, this);
    }

    /**
     * Waits for an outside party (a client, an operator, a metadata handler). The checker refuses
     * this while the thread holds any lock (seed 004).
     */
    public boolean waitOutside(BooleanSupplier condition, long timeoutNanos) {
        return await(condition, deadlineAfter(timeoutNanos), true, this);
    }

    /** Like {@link #waitUntil(BooleanSupplier)}, reporting {@code on} as what is waited for. */
    void await(BooleanSupplier condition, Waitable on) {
        await(condition, Long.MAX_VALUE, false, on);
    }

    /**
     * The deadline {@code timeoutNanos} from now; Long.MAX_VALUE (none) only for timeouts too long
     * to represent. A zero or negative timeout (a deadline already passed, as computed timeouts
     * often are) is a deadline of now: one check, no wait, never "forever".
     */
    private long deadlineAfter(long timeoutNanos) {
        if (timeoutNanos == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        long now = scheduler.clock().nanoTime();
        if (timeoutNanos <= 0) {
            return now == Long.MAX_VALUE ? now - 1 : now;
        }
        long deadline = now + timeoutNanos;
        return deadline < now || deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline;
    }

    boolean await(BooleanSupplier condition, long deadlineNanos, boolean outside, Waitable on) {
        JmdThread me = scheduler.current();
        // On entry, whether or not this call will wait: see DependencyChecker#beforeBlock.
        scheduler.checker().beforeBlock(me, on, outside);
        return awaitChecked(me, condition, deadlineNanos, on);
    }

    /**
     * The wait itself, for callers in this package that ran the checker on their own entry.
     *
     * <p>The condition runs as a must-not-block section: a condition that waited (a lock, a nested
     * wait) would park, and could consume the permit of a wake-up meant for this wait, which then
     * parks for ever. The checker flags that instead.
     */
    boolean awaitChecked(JmdThread me, BooleanSupplier condition, long deadlineNanos, Waitable on) {
        if (test(me, condition)) {
            return true;
        }
        try {
            waiting.incrementAndGet();
            while (true) {
                synchronized (waiters) {
                    waiters.add(me);
                }
                if (test(me, condition)) {
                    return true;
                }
                if (deadlineNanos != Long.MAX_VALUE && scheduler.clock().nanoTime() - deadlineNanos >= 0) {
                    return false;
                }
                me.waitingOn = on;
                scheduler.park(on, deadlineNanos);
                me.waitingOn = null;
                synchronized (waiters) {
                    waiters.remove(me);
                }
            }
        } finally {
            waiting.decrementAndGet();
            me.waitingOn = null;
            synchronized (waiters) {
                waiters.remove(me);
            }
        }
    }

    private static boolean test(JmdThread me, BooleanSupplier condition) {
        me.atomicDepth++;
        try {
            return condition.getAsBoolean();
        } finally {
            me.atomicDepth--;
        }
    }

    /**
     * Wakes the longest waiter, if any: for conditions that any single waiter can act on (a task
     * for one of several idle workers). Cheaper than {@link #wakeAll} when many wait, which would
     * wake them all for one of them to win. A woken waiter that finds the condition false waits
     * again, so callers must not rely on a wakeOne reaching a thread that will act: use it only
     * where every thread that could consume the condition re-checks it before waiting (as pool
     * workers do).
     */
    public void wakeOne() {
        if (waiting.get() == 0) {
            return;
        }
        JmdThread t;
        synchronized (waiters) {
            if (waiters.isEmpty()) {
                return;
            }
            t = waiters.remove(0);
        }
        scheduler.unpark(t);
    }

    /** Wakes every waiter; each re-checks its condition. */
    public void wakeAll() {
        if (waiting.get() == 0) {
            return; // nobody waits: no monitor on the hot path (releases, completions)
        }
        JmdThread[] toWake;
        synchronized (waiters) {
            if (waiters.isEmpty()) {
                return;
            }
            toWake = waiters.toArray(new JmdThread[0]);
            waiters.clear();
        }
        for (JmdThread t : toWake) {
            scheduler.unpark(t);
        }
    }

    /** True if some thread is waiting (diagnostics, tests). */
    public boolean hasWaiters() {
        synchronized (waiters) {
            return !waiters.isEmpty();
        }
    }

    /** Snapshot of the waiting threads, for wait-for chains. */
    public List<JmdThread> waiters() {
        synchronized (waiters) {
            return List.copyOf(waiters);
        }
    }
}
