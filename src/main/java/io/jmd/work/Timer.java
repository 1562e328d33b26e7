package io.jmd.work;

import io.jmd.sync.JmdThread;
import io.jmd.sync.Scheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.WaitQueue;

import java.util.EnumSet;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs short, non-blocking tasks at a deadline on the injected clock (injected latency, safe-mode
 * timers). One thread; tasks must not block, since they delay every later task.
 */
public final class Timer implements AutoCloseable {
    private record Key(long deadlineNanos, long seq) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = Long.compare(deadlineNanos, o.deadlineNanos);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final Scheduler scheduler;
    private final ConcurrentSkipListMap<Key, Runnable> tasks = new ConcurrentSkipListMap<>();
    private final AtomicLong seq = new AtomicLong();
    private final WaitQueue wait;
    private volatile boolean stopping;
    private final JmdThread thread;

    public Timer(Scheduler scheduler, String name) {
        this.scheduler = scheduler;
        this.wait = new WaitQueue(scheduler, "timer " + name);
        this.thread = scheduler.start(name, EnumSet.of(ThreadRole.IO_PROGRESS), this::run);
    }

    /** Runs {@code task} once {@code delayNanos} have passed; never blocks. */
    public void schedule(long delayNanos, Runnable task) {
        long deadline = scheduler.clock().nanoTime() + Math.max(0, delayNanos);
        tasks.put(new Key(deadline, seq.incrementAndGet()), task);
        wait.wakeAll();
    }

    private void run() {
        while (true) {
            // Stopping drops whatever is pending, also tasks scheduled while close() runs: waiting
            // for them would make the wait below return at once (stopping) and spin until their
            // deadlines, with close() joining all that time.
            if (stopping) {
                return;
            }
            Map.Entry<Key, Runnable> first = tasks.firstEntry();
            long now = scheduler.clock().nanoTime();
            if (first != null && first.getKey().deadlineNanos() - now <= 0) {
                if (tasks.remove(first.getKey(), first.getValue())) {
                    Survive.run("timer", first.getValue());
                }
                continue;
            }
            long waitNanos = first == null ? Long.MAX_VALUE : first.getKey().deadlineNanos() - now;
            Key seen = first == null ? null : first.getKey();
            wait.waitUntil(() -> stopping || firstKeyChanged(seen), waitNanos);
        }
    }

    private boolean firstKeyChanged(Key seen) {
        Map.Entry<Key, Runnable> f = tasks.firstEntry();
        return f != null && (seen == null || f.getKey().compareTo(seen) < 0);
    }

    public int pending() {
        return tasks.size();
    }

    /** Drops pending tasks and stops (callers end their delayed bios before closing). */
    @Override
    public void close() {
        stopping = true;
        tasks.clear();
        wait.wakeAll();
        scheduler.join(thread);
        tasks.clear(); // scheduled during close: dropped too
    }
}
