package io.jmd.testutil;

import io.jmd.sync.Clock;
import io.jmd.sync.DependencyChecker;
import io.jmd.sync.JmdThread;
import io.jmd.sync.Scheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.Waitable;

import java.util.Set;

/** A scheduler that forwards everything to another; tests override the step they want to bend. */
public class ForwardingScheduler implements Scheduler {
    protected final Scheduler delegate;

    public ForwardingScheduler(Scheduler delegate) {
        this.delegate = delegate;
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
