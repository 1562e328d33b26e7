package io.jmd.work;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A unit of deferred work, as Linux's work_struct: queued at most once at a time (queueing a
 * pending work is a no-op), so a work queue holds at most one entry per Work object: bounded by
 * construction.
 */
public final class Work {
    final String name;
    final Runnable body;
    final AtomicBoolean pending = new AtomicBoolean();

    public Work(String name, Runnable body) {
        this.name = name;
        this.body = body;
    }

    public String name() {
        return name;
    }

    public boolean isPending() {
        return pending.get();
    }
}
