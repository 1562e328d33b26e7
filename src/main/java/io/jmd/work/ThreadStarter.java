package io.jmd.work;

import io.jmd.sync.JmdThread;
import io.jmd.sync.Scheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.WaitQueue;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The dedicated thread that starts threads for everyone else (seed 003). Starting a thread may
 * wait on memory, and memory may wait on I/O; so no thread that I/O progress depends on starts
 * one. They queue a request here and go on. This thread has no I/O role, never does I/O, and a
 * request that fails to start is reported to its {@link Request#failed} hook.
 *
 * <p>Bound: each requester has at most its own maximum of starts outstanding (workers starting
 * count against a pool's maximum), so the request queue is bounded by the sum of pool maxima.
 */
public final class ThreadStarter implements AutoCloseable {
    /** A start request. {@code failed} runs on the starter thread if the start throws. */
    public record Request(String name, Set<ThreadRole> roles, Runnable body, Runnable failed) {
    }

    private final Scheduler scheduler;
    private final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    private final WaitQueue wait;
    private volatile boolean stopping;
    private final JmdThread thread;

    public ThreadStarter(Scheduler scheduler, String name) {
        this.scheduler = scheduler;
        this.wait = new WaitQueue(scheduler, name + " requests");
        this.thread = scheduler.start(name, EnumSet.of(ThreadRole.STARTER), this::run);
    }

    /** Queues a start; never blocks, never starts anything on the calling thread. */
    public void requestStart(Request request) {
        requests.add(request);
        wait.wakeAll();
    }

    private void run() {
        while (true) {
            wait.waitUntil(() -> stopping || !requests.isEmpty());
            Request r = requests.poll();
            if (r == null) {
                if (stopping) {
                    return;
                }
                continue;
            }
            try {
                scheduler.start(r.name(), r.roles(), r.body());
            } catch (RuntimeException | OutOfMemoryError e) {
                r.failed().run();
            }
        }
    }

    public JmdThread thread() {
        return thread;
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
