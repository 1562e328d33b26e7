package io.jmd.sync;

import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A non-reentrant mutual-exclusion lock that knows its holder. Acquisitions feed the lock-order
 * checker; the holder shows in wait-for chains. Lock classes are names: locks that must nest
 * should have names that make the documented order obvious.
 */
public final class Mutex implements Waitable {
    private final String name;
    private final Scheduler scheduler;
    private final WaitQueue queue;
    private final AtomicReference<JmdThread> owner = new AtomicReference<>();

    public Mutex(Scheduler scheduler, String name) {
        this.name = name;
        this.scheduler = scheduler;
        this.queue = new WaitQueue(scheduler, "lock " + name, this::providers);
    }

    @Override
    public String waitName() {
        return name;
    }

    @Override
    public List<JmdThread> providers() {
        JmdThread o = owner.get();
        return o == null ? List.of() : List.of(o);
    }

    public void lock() {
        JmdThread me = scheduler.current();
        assert owner.get() != me : "recursive lock of " + name + " by " + me.name();
        // Checked on every call, contended or not: see DependencyChecker#beforeBlock.
        scheduler.checker().beforeBlock(me, this, false);
        scheduler.checker().onLockAcquired(me, this);
        if (!owner.compareAndSet(null, me)) {
            queue.awaitChecked(me, () -> owner.compareAndSet(null, me), Long.MAX_VALUE, this);
        }
        me.heldLocks.add(this);
    }

    /**
     * Takes the lock if it is free; never waits. Adds no lock-order edge (a try cannot close a
     * deadlock cycle), but locks taken while holding it are ordered after it as usual.
     */
    public boolean tryLock() {
        JmdThread me = scheduler.current();
        if (!owner.compareAndSet(null, me)) {
            return false;
        }
        me.heldLocks.add(this);
        return true;
    }

    public void unlock() {
        JmdThread me = scheduler.current();
        boolean released = owner.compareAndSet(me, null);
        if (!released) {
            throw new IllegalStateException("unlock of " + name + " by " + me.name() + ", held by " + owner.get());
        }
        me.heldLocks.remove(this);
        queue.wakeAll();
    }

    public boolean isHeldByCurrentThread() {
        return owner.get() == scheduler.current();
    }

    public JmdThread holder() {
        return owner.get();
    }
}
