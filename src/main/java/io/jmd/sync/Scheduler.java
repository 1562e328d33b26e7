package io.jmd.sync;

import java.util.Set;

/**
 * The one place where jmd threads start, block and wake. Every wait primitive in this package
 * parks through it, so that a deterministic scheduler (the simulator) can run every engine thread
 * one at a time and see every wait, and the dependency checker can inspect every blocking step.
 *
 * <p>Contract of park/unpark: permit semantics, as {@link java.util.concurrent.locks.LockSupport}:
 * an unpark before the park makes the next park return at once; park may return spuriously, so
 * callers always re-check their condition in a loop.
 */
public interface Scheduler {
    Clock clock();

    DependencyChecker checker();

    /** jmd's view of the calling thread (created on first use for threads jmd did not start). */
    JmdThread current();

    /**
     * Starts a thread. Checked: only threads without the {@link ThreadRole#IO_PROGRESS} role may
     * start threads (seeds 000 and 003); engine code hands starts to a dedicated starter.
     */
    JmdThread start(String name, Set<ThreadRole> roles, Runnable body);

    /**
     * Blocks the calling thread until it is unparked, the deadline passes (a {@link Clock#nanoTime}
     * value; {@link Long#MAX_VALUE} for none) or spuriously. {@code on} is what it waits for.
     */
    void park(Waitable on, long deadlineNanos);

    void unpark(JmdThread thread);

    /** A point where a deterministic scheduler may switch threads; a no-op on real threads. */
    default void yieldPoint() {
    }

    /** Waits for the thread to end (used at shutdown, from a thread that is not on the I/O path). */
    void join(JmdThread thread);
}
