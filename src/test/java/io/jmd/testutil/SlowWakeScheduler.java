package io.jmd.testutil;

import io.jmd.sync.Clock;
import io.jmd.sync.DependencyChecker;
import io.jmd.sync.JmdThread;
import io.jmd.sync.Scheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.Waitable;

import java.util.Set;
import java.util.function.Predicate;

/**
 * A real scheduler whose chosen threads come back from every park late, as if descheduled right
 * after their wake-up: it widens the window between "woken" and "running again" from microseconds
 * to milliseconds, so races in that window show up every run instead of once in a million.
 */
public final class SlowWakeScheduler implements Scheduler {
    private final Scheduler delegate;
    private final Predicate<String> slowThreadNames;
    private final long delayMillis;

    public SlowWakeScheduler(Scheduler delegate, Predicate<String> slowThreadNames, long delayMillis) {
        this.delegate = delegate;
        this.slowThreadNames = slowThreadNames;
        this.delayMillis = delayMillis;
    }

    @Override
    public Clock clock() {
        return delegate.clock();
    }

    @Override
    public DependencyChecker checker() {
        return delegate.checker();
    }

    @Override
    public JmdThread current() {
        return delegate.current();
    }

    @Override
    public JmdThread start(String name, Set<ThreadRole> roles, Runnable body) {
        return delegate.start(name, roles, body);
    }

    @Override
    public void park(Waitable on, long deadlineNanos) {
        delegate.park(on, deadlineNanos);
        if (slowThreadNames.test(delegate.current().name())) {
            TestThreads.sleepMillis(delayMillis);
        }
    }

    @Override
    public void unpark(JmdThread thread) {
        delegate.unpark(thread);
    }

    @Override
    public void join(JmdThread thread) {
        delegate.join(thread);
    }
}
