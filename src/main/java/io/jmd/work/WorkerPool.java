package io.jmd.work;

import io.jmd.sync.Scheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.WaitQueue;

import java.util.EnumSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An on-demand pool of worker threads (member I/O runs here). Workers are added when more tasks
 * wait than workers are idle, up to {@code maxWorkers}, and leave after {@code idleNanos} without
 * work.
 *
 * <p>Seed 003: {@link #execute} never starts a thread itself, whatever thread calls it (often a
 * worker of this very pool): it asks the {@link ThreadStarter}. Workers being started count with
 * running ones against the maximum, so concurrent growers cannot overshoot.
 *
 * <p>Bound: queued tasks are bounded by the callers' in-flight slots (each device admits at most
 * its queue depth); {@code maxQueued} asserts that sum as a programmer-error check.
 */
public final class WorkerPool implements AutoCloseable {
    private final Scheduler scheduler;
    private final ThreadStarter starter;
    private final String name;
    private final int maxWorkers;
    private final int maxQueued;
    private final long idleNanos;
    private final boolean ioProgress;

    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queued = new AtomicInteger();
    /** Workers running or being started (counted together: seed 003). */
    private final AtomicInteger workers = new AtomicInteger();
    private final AtomicInteger idle = new AtomicInteger();
    private final AtomicInteger serial = new AtomicInteger();
    private final WaitQueue work;
    private final WaitQueue allGone;
    private volatile boolean stopping;

    /**
     * @param ioProgress whether I/O progress depends on these workers (member I/O, completions):
     *                   then the checker forbids them to start threads or block in callbacks.
     */
    public WorkerPool(Scheduler scheduler, ThreadStarter starter, String name, int maxWorkers,
                      int maxQueued, long idleNanos, boolean ioProgress) {
        if (maxWorkers < 1 || maxQueued < 1) {
            throw new IllegalArgumentException(name + ": maxWorkers and maxQueued must be >= 1");
        }
        this.scheduler = scheduler;
        this.starter = starter;
        this.name = name;
        this.maxWorkers = maxWorkers;
        this.maxQueued = maxQueued;
        this.idleNanos = idleNanos;
        this.ioProgress = ioProgress;
        this.work = new WaitQueue(scheduler, name + " tasks");
        this.allGone = new WaitQueue(scheduler, name + " shutdown");
    }

    public String name() {
        return name;
    }

    /** Queues a task; never blocks and never starts a thread on the calling thread. */
    public void execute(Runnable task) {
        if (stopping) {
            throw new IllegalStateException(name + " is shut down");
        }
        int q = queued.incrementAndGet();
        if (q > maxQueued) {
            queued.decrementAndGet();
            throw new IllegalStateException(name + ": " + q + " tasks queued, bound " + maxQueued
                + " (a caller submits past its in-flight slots)");
        }
        tasks.add(task);
        int idleNow = idle.get();
        if (idleNow > 0) {
            // One task, one worker: waking every idle worker for it (a herd of up to maxWorkers
            // threads per task) cost 4k random RAID1 writes two thirds of their throughput.
            work.wakeOne();
        }
        // Grow while more tasks wait than idle workers can take, not only when none is idle: tasks
        // queued while the one idle worker is still waking would all count on it, and if the
        // first waits on a later one (a read waiting on a write queued after it), the later one
        // is stranded with the pool far below its maximum.
        if (q > idleNow) {
            maybeGrow();
        }
    }

    private void maybeGrow() {
        while (true) {
            int w = workers.get();
            if (w >= maxWorkers) {
                work.wakeOne();
                return;
            }
            if (workers.compareAndSet(w, w + 1)) {
                break;
            }
        }
        EnumSet<ThreadRole> roles = ioProgress ? EnumSet.of(ThreadRole.IO_PROGRESS) : EnumSet.noneOf(ThreadRole.class);
        starter.requestStart(new ThreadStarter.Request(name + "/" + serial.incrementAndGet(), roles,
            this::workerLoop, this::startFailed));
    }

    private void startFailed() {
        workers.decrementAndGet();
        allGone.wakeAll();
        // Tasks stay queued; running workers (or the next execute) pick them up.
    }

    private void workerLoop() {
        try {
            while (true) {
                Runnable t = tasks.poll();
                if (t != null) {
                    queued.decrementAndGet();
                    Survive.run(name, t);
                    continue;
                }
                if (stopping) {
                    return;
                }
                idle.incrementAndGet();
                boolean got = work.waitUntil(() -> stopping || !tasks.isEmpty(), idleNanos);
                idle.decrementAndGet();
                if (!got && tasks.isEmpty() && leaveIfIdle()) {
                    return;
                }
            }
        } finally {
            workers.decrementAndGet();
            allGone.wakeAll();
            // A task queued while this worker was leaving saw it as running and started nobody.
            if (!stopping && !tasks.isEmpty()) {
                maybeGrow();
            }
        }
    }

    /** An idle worker leaves when nothing is queued; {@link #workerLoop}'s exit re-checks the race. */
    private boolean leaveIfIdle() {
        return tasks.isEmpty();
    }

    public int workerCount() {
        return workers.get();
    }

    public int queuedCount() {
        return queued.get();
    }

    /** Stops accepting tasks, runs what is queued, waits for every worker to leave. */
    @Override
    public void close() {
        stopping = true;
        work.wakeAll();
        allGone.waitUntil(() -> workers.get() == 0);
        assert tasks.isEmpty() : name + ": tasks left at shutdown";
    }
}
