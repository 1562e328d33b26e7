package io.jmd.testutil;

import io.jmd.sync.Scheduler;
import io.jmd.sync.Waitable;

import java.util.function.Predicate;

/**
 * A real scheduler whose chosen threads come back from every park late, as if descheduled right
 * after their wake-up: it widens the window between "woken" and "running again" from microseconds
 * to milliseconds, so races in that window show up every run instead of once in a million.
 */
public final class SlowWakeScheduler extends ForwardingScheduler {
    private final Predicate<String> slowThreadNames;
    private final long delayMillis;

    public SlowWakeScheduler(Scheduler delegate, Predicate<String> slowThreadNames, long delayMillis) {
        super(delegate);
        this.slowThreadNames = slowThreadNames;
        this.delayMillis = delayMillis;
    }

    @Override
    public void park(Waitable on, long deadlineNanos) {
        delegate.park(on, deadlineNanos);
        if (slowThreadNames.test(delegate.current().name())) {
            TestThreads.sleepMillis(delayMillis);
        }
    }
}
