package io.jmd.sync;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The production scheduler: platform threads, parked with {@link LockSupport}. Engine threads are
 * daemons so that a stuck engine never keeps the JVM alive after the CLI is done.
 */
public final class RealScheduler implements Scheduler {
    private final Clock clock;
    private final DependencyChecker checker;
    private final ThreadLocal<JmdThread> current = new ThreadLocal<>();
    private final AtomicLong foreignCount = new AtomicLong();

    public RealScheduler(Clock clock, DependencyChecker checker) {
        this.clock = clock;
        this.checker = checker;
    }

    /** A scheduler on the system clock whose checker reports to stderr and keeps going. */
    public static RealScheduler production() {
        return new RealScheduler(Clock.SYSTEM,
            new DependencyChecker(DependencyChecker.Mode.REPORT, System.err::println));
    }

    @Override
    public Clock clock() {
        return clock;
    }

    @Override
    public DependencyChecker checker() {
        return checker;
    }

    @Override
    public JmdThread current() {
        JmdThread t = current.get();
        if (t == null) {
            Thread jt = Thread.currentThread();
            t = new JmdThread(jt.getName() + "#" + foreignCount.incrementAndGet(), EnumSet.of(ThreadRole.EXTERNAL), jt);
            current.set(t);
        }
        return t;
    }

    @Override
    public JmdThread start(String name, Set<ThreadRole> roles, Runnable body) {
        checker.beforeStart(current(), name);
        JmdThread[] self = new JmdThread[1];
        Thread jt = Thread.ofPlatform().name(name).daemon(true).unstarted(() -> {
            current.set(self[0]);
            body.run();
        });
        self[0] = new JmdThread(name, roles, jt);
        jt.start();
        return self[0];
    }

    @Override
    public void park(Waitable on, long deadlineNanos) {
        if (deadlineNanos == Long.MAX_VALUE) {
            LockSupport.park(on);
        } else {
            long wait = deadlineNanos - clock.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(on, wait);
            }
        }
    }

    @Override
    public void unpark(JmdThread thread) {
        LockSupport.unpark(thread.javaThread());
    }

    @Override
    public void join(JmdThread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.javaThread().join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
