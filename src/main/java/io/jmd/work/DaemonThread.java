package io.jmd.work;

import io.jmd.sync.JmdThread;
import io.jmd.sync.Scheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.WaitQueue;

import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A daemon thread with wake-up, as md's md_thread: it sleeps until {@link #wakeup()} or its
 * timeout, then runs its handler once. Wake-ups coalesce (a flag, like THREAD_WAKEUP), so
 * waking never blocks and never queues: safe from completion callbacks.
 *
 * <p>The array thread is an I/O-progress thread: its handler must never block on memory or
 * start threads (seeds 000, 001); it tries, then falls back or defers to a work queue.
 */
public final class DaemonThread implements AutoCloseable {
    private final Scheduler scheduler;
    private final String name;
    private final Runnable handler;
    private final AtomicBoolean wakeupFlag = new AtomicBoolean();
    private final WaitQueue wait;
    private volatile long timeoutNanos;
    /** Bumped by every {@link #setTimeoutNanos}, so a sleeping thread re-arms with the new timeout. */
    private final AtomicLong timeoutChanges = new AtomicLong();
    private volatile boolean stopping;
    private final JmdThread thread;

    public DaemonThread(Scheduler scheduler, String name, Set<ThreadRole> roles, long timeoutNanos, Runnable handler) {
        this.scheduler = scheduler;
        this.name = name;
        this.handler = handler;
        this.timeoutNanos = timeoutNanos;
        this.wait = new WaitQueue(scheduler, "daemon " + name);
        this.thread = scheduler.start(name, roles, this::run);
    }

    public String name() {
        return name;
    }

    /** Makes the thread run its handler soon; never blocks. */
    public void wakeup() {
        wakeupFlag.set(true);
        wait.wakeAll();
    }

    /**
     * Changes the idle timeout after which the handler runs anyway (Long.MAX_VALUE: none). Takes
     * effect at once: a sleeping thread re-arms, counting the new timeout from now.
     */
    public void setTimeoutNanos(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
        timeoutChanges.incrementAndGet();
        wait.wakeAll();
    }

    private void run() {
        while (!stopping) {
            // The change count is read before the timeout, and bumped after it is written: a
            // change in between makes the condition true at once and the loop re-reads both.
            long changes = timeoutChanges.get();
            boolean woken = wait.waitUntil(
                () -> stopping || wakeupFlag.get() || timeoutChanges.get() != changes, timeoutNanos);
            if (stopping) {
                return;
            }
            if (woken && !wakeupFlag.get()) {
                continue; // only the timeout changed: wait again with the new one
            }
            wakeupFlag.set(false);
            Survive.run(name, handler);
        }
    }

    public JmdThread thread() {
        return thread;
    }

    public boolean isCurrent() {
        return scheduler.current() == thread;
    }

    @Override
    public void close() {
        stopping = true;
        wait.wakeAll();
        if (scheduler.current() != thread) {
            scheduler.join(thread);
        }
    }
}
