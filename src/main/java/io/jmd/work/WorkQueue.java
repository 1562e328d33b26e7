package io.jmd.work;

import io.jmd.sync.JmdThread;
import io.jmd.sync.Scheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.WaitQueue;

import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A named work queue with one thread of its own, as Linux's single-threaded workqueues (md_misc):
 * work runs in queueing order. Its thread's roles decide what the work may do: a queue without
 * {@link ThreadRole#IO_PROGRESS} may start threads (seed 000: the sync thread is started from
 * such a queue, never from the array thread).
 */
public final class WorkQueue implements AutoCloseable {
    private final Scheduler scheduler;
    private final String name;
    private final ConcurrentLinkedQueue<Work> queue = new ConcurrentLinkedQueue<>();
    private final WaitQueue wait;
    private volatile boolean stopping;
    /*
     * Flush accounting. The queue is FIFO with one consumer, so "the first N works queued have
     * run" is just doneCount >= N. queuedCount is bumped before the add, so a flush that reads it
     * counts every work whose queue() returned before: those sit ahead of any later one.
     * (A "queue empty and nothing running" test is wrong: the worker polls a work before it can
     * mark it running, and a flush looking in between returned early.)
     */
    private final AtomicLong queuedCount = new AtomicLong();
    private final AtomicLong doneCount = new AtomicLong();
    private final WaitQueue idle;
    private final JmdThread thread;

    public WorkQueue(Scheduler scheduler, String name, Set<ThreadRole> roles) {
        this.scheduler = scheduler;
        this.name = name;
        this.wait = new WaitQueue(scheduler, "workqueue " + name);
        this.idle = new WaitQueue(scheduler, "workqueue " + name + " flush");
        this.thread = scheduler.start(name, roles, this::run);
    }

    public String name() {
        return name;
    }

    /** Queues {@code work} unless it is already pending; never blocks. Returns true if queued. */
    public boolean queue(Work work) {
        if (!work.pending.compareAndSet(false, true)) {
            return false;
        }
        queuedCount.incrementAndGet();
        queue.add(work);
        wait.wakeAll();
        return true;
    }

    private void run() {
        while (true) {
            wait.waitUntil(() -> stopping || !queue.isEmpty());
            Work w = queue.poll();
            if (w == null) {
                if (stopping) {
                    return;
                }
                continue;
            }
            w.pending.set(false);
            try {
                Survive.run(name + ": " + w.name, w.body);
            } finally {
                doneCount.incrementAndGet();
                idle.wakeAll();
            }
        }
    }

    /** Waits until everything queued before this call has run (not from this queue's thread). */
    public void flush() {
        assert scheduler.current() != thread : "flush of " + name + " from its own thread";
        long target = queuedCount.get();
        idle.waitUntil(() -> doneCount.get() >= target);
    }

    public JmdThread thread() {
        return thread;
    }

    @Override
    public void close() {
        flush();
        stopping = true;
        wait.wakeAll();
        scheduler.join(thread);
    }
}
